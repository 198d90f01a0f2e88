package cache

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func age(t *testing.T, d time.Duration, paths ...string) {
	t.Helper()
	old := time.Now().Add(-d)
	for _, p := range paths {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	c := openTest(t)
	writeIndex(t, c, "lkpkg/a:1", newTestIndex(t))
	write := func(p string, size int, d time.Duration) {
		t.Helper()
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		age(t, d, p)
	}
	stale := filepath.Join(c.Dir(), "tmp", "blob-stale")
	fresh := filepath.Join(c.Dir(), "tmp", "blob-fresh")
	orphan := filepath.Join(c.Dir(), "blobs", "sha256", strings.Repeat("ab", 32))
	write(stale, 100, 2*time.Hour)
	write(fresh, 10, time.Minute)
	write(orphan, 1000, 0)

	n, err := c.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1100 {
		t.Errorf("Prune removed %d bytes, want 1100", n)
	}
	checkPruned(t, []string{stale, orphan}, []string{fresh})
	if err := c.Verify(ctx); err != nil {
		t.Fatalf("Prune broke the cache: %v", err)
	}
}

func TestPruneKeepsLockedTempDir(t *testing.T) {
	ctx := context.Background()
	c := openTest(t)
	dir, release, err := c.TempDir("build-")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != filepath.Join(c.Dir(), "tmp") || !strings.HasPrefix(filepath.Base(dir), "build-") {
		t.Fatalf("TempDir = %s, want tmp/build-*", dir)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A build running for two hours.
	age(t, 2*time.Hour, dir, filepath.Join(dir, "index.json"), dir+tmpLockSuffix)
	if _, err := c.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if !exists(filepath.Join(dir, "index.json")) {
		t.Fatal("Prune removed a temp dir whose owner is still running")
	}

	release()
	release() // idempotent
	for _, p := range []string{dir, dir + tmpLockSuffix} {
		if exists(p) {
			t.Errorf("%s left after release", p)
		}
	}
}

func TestPruneRemovesDeadTempDirs(t *testing.T) {
	ctx := context.Background()
	c := openTest(t)
	tmp := filepath.Join(c.Dir(), "tmp")
	mk := func(name string, dir bool, d time.Duration) string {
		t.Helper()
		p := filepath.Join(tmp, name)
		if dir {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(p, "f"), make([]byte, 100), 0o644); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		age(t, d, p)
		return p
	}
	deadDir := mk("build-dead", true, 2*time.Hour)
	deadLock := mk("build-dead.lock", false, 2*time.Hour)
	orphanLock := mk("import-gone.lock", false, 2*time.Hour)
	youngDir := mk("build-young", true, time.Minute)
	youngLock := mk("build-young.lock", false, time.Minute)

	n, err := c.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 100 {
		t.Errorf("Prune freed %d bytes, want 100", n)
	}
	checkPruned(t, []string{deadDir, deadLock, orphanLock}, []string{youngDir, youngLock})
}

func TestTempDirBadPrefix(t *testing.T) {
	c := openTest(t)
	for _, p := range []string{"../x", "a/b", "x*"} {
		if _, _, err := c.TempDir(p); err == nil {
			t.Errorf("TempDir(%q) succeeded", p)
		}
	}
}

// TestImportSpoolSurvivesPrune stalls an import mid-tar, ages its spool
// directory past the prune threshold and checks Prune leaves it alone.
func TestImportSpoolSurvivesPrune(t *testing.T) {
	ctx := context.Background()
	src, _ := populated(t)
	data := exportOCI(t, src, "lkpkg/init:1")
	c := openTest(t)
	tmp := filepath.Join(c.Dir(), "tmp")

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := c.Import(ctx, pr, ImportOptions{})
		done <- err
	}()
	// Feed half the tar, then stall.
	go pw.Write(data[:len(data)/2])

	var spool string
	deadline := time.Now().Add(10 * time.Second)
	for spool == "" {
		des, _ := os.ReadDir(tmp)
		for _, de := range des {
			if base, ok := strings.CutSuffix(de.Name(), tmpLockSuffix); ok && strings.HasPrefix(base, "import-") {
				spool = filepath.Join(tmp, base)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("import made no locked spool dir")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Wait for some spooled blob so there is something to lose.
	for {
		des, _ := os.ReadDir(spool)
		if len(des) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("import spooled nothing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	age(t, 2*time.Hour, spool, spool+tmpLockSuffix)
	if _, err := c.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if !exists(spool) {
		t.Fatal("Prune removed the spool dir of a running import")
	}
	pw.CloseWithError(errors.New("stop"))
	if err := <-done; err == nil {
		t.Fatal("Import of a cut-off tar succeeded")
	}
	if des, err := os.ReadDir(tmp); err != nil || len(des) != 0 {
		t.Errorf("tmp/ after import = %d entries (%v), want none", len(des), err)
	}
	if _, err := os.Stat(spool); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("spool dir left behind: %v", err)
	}
}

// checkPruned fails t unless every path in gone is gone and every path in
// kept is still there.
func checkPruned(t *testing.T, gone, kept []string) {
	t.Helper()
	for _, p := range gone {
		if exists(p) {
			t.Errorf("%s exists after Prune, want it removed", p)
		}
	}
	for _, p := range kept {
		if !exists(p) {
			t.Errorf("%s removed by Prune, want it kept", p)
		}
	}
}
