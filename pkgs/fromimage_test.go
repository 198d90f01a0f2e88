package pkgs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// A Debian lock keeps working after upstream moves on: with the archive
// unreachable and an empty download cache, the mirror cannot be built;
// `mirror fetch --from-image` takes the locked .debs back out of the mirror
// image (each checked against the lock), and the rebuild gives the same
// image, digest for digest.
func TestDebianLockWorksFromTheMirrorImage(t *testing.T) {
	testenv.Integration(t)
	bin := testenv.LkpkgBinary(t)
	ociCache := t.TempDir()
	run := func(debCache string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "LKPKG_CACHE="+ociCache)
		if debCache != "" {
			cmd.Env = append(cmd.Env, "LKPKG_DEB_CACHE="+debCache)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The real mirror, from the archive (or the persistent download cache).
	out, err := run("", "mirror", "build", "systemd-boot")
	if err != nil {
		t.Fatalf("mirror build: %v\n%s", err, out)
	}
	ref, digest, _ := strings.Cut(strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]), " ")

	// The same mirror.yml and lock, with an archive that has gone away.
	dir := t.TempDir()
	yml, _ := os.ReadFile("systemd-boot/mirror.yml")
	yml = []byte(strings.ReplaceAll(string(yml), "http://deb.debian.org/", "http://127.0.0.1:9/"))
	lock, _ := os.ReadFile("systemd-boot/mirror.lock")
	os.MkdirAll(filepath.Join(dir, "systemd-boot"), 0o755)
	os.WriteFile(filepath.Join(dir, "systemd-boot", "mirror.yml"), yml, 0o644)
	os.WriteFile(filepath.Join(dir, "systemd-boot", "mirror.lock"), lock, 0o644)
	if err := os.CopyFS(filepath.Join(dir, "keys"), os.DirFS("keys")); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(dir, "systemd-boot")

	empty := t.TempDir()
	if out, err := run(empty, "mirror", "build", gone); err == nil || !strings.Contains(out, "systemd-boot-efi") {
		t.Fatalf("built with the archive gone and no download cache (err %v):\n%s", err, out)
	}
	if out, err := run(empty, "mirror", "fetch", "--from-image", ref, gone); err != nil {
		t.Fatalf("fetch --from-image: %v\n%s", err, out)
	}
	out, err = run(empty, "mirror", "build", gone)
	if err != nil {
		t.Fatalf("build after fetch --from-image: %v\n%s", err, out)
	}
	if !strings.Contains(out, ref+" "+digest) {
		t.Fatalf("rebuilt %q, want %s %s", out, ref, digest)
	}
}
