package mirror

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/internal/userdir"
)

// systemdBootCopy copies pkgs/systemd-boot (a two-package Debian mirror)
// and its keyring into a temporary tree.
func systemdBootCopy(t *testing.T) *Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "pkgs", "systemd-boot"), os.DirFS("../pkgs/systemd-boot")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "pkgs", "keys"), os.DirFS("../pkgs/keys")); err != nil {
		t.Fatal(err)
	}
	c, err := Load(filepath.Join(dir, "pkgs", "systemd-boot"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Locking again refuses an InRelease older than the one the current lock
// was made from (a replayed release), unless told to accept it.
func TestDebianLockRefusesAnOlderRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("reaches Debian's archive (or its cached InRelease)")
	}
	c := systemdBootCopy(t)
	lock, err := os.ReadFile(c.LockFile())
	if err != nil {
		t.Fatal(err)
	}
	// Pretend the lock was made from a release dated in the future.
	var future []string
	for _, line := range strings.Split(string(lock), "\n") {
		if strings.HasPrefix(line, "      date: ") {
			line = `      date: "2099-01-01T00:00:00Z"`
		}
		future = append(future, line)
	}
	if err := os.WriteFile(c.LockFile(), []byte(strings.Join(future, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	// The user's Debian download cache may hold the InRelease already.
	opts := Options{DebDownloadDir: debTestCache(t)}
	_, err = LockAndWrite(context.Background(), c, opts)
	if err == nil || !strings.Contains(err.Error(), "refusing a rollback") || !strings.Contains(err.Error(), "bookworm") {
		t.Fatalf("err = %v, want a refused rollback naming the suite", err)
	}
	if _, err := LockAndWrite(context.Background(), c, Options{DebDownloadDir: opts.DebDownloadDir, AllowOlderRelease: true}); err != nil {
		t.Fatalf("with AllowOlderRelease: %v", err)
	}
	// The lock is now the archive's own again: a plain relock accepts it.
	if _, err := LockAndWrite(context.Background(), c, opts); err != nil {
		t.Fatalf("relock: %v", err)
	}
}

// debTestCache is the user's Debian download cache ($LKPKG_DEB_CACHE, else
// ~/.cache/lkpkg/deb), shared with lkpkg so tests do not download again.
func debTestCache(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("LKPKG_DEB_CACHE"); d != "" {
		return d
	}
	d, err := userdir.CacheDir("deb", "$LKPKG_DEB_CACHE")
	if err != nil {
		t.Fatal(err)
	}
	return d
}
