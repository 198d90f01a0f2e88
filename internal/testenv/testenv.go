package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/pkgbuild/buildkitd"
)

// Integration skips t under -short and otherwise returns normally.
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs buildkitd (run without -short, e.g. `make test`)")
	}
}

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// AlpineDir is the real Alpine data ($LKPKG_ALPINE_DIR, else
// ../shared/alpine beside the repository).
func AlpineDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("LKPKG_ALPINE_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "..", "shared", "alpine")
	}
	if _, err := os.Stat(filepath.Join(dir, "minirootfs", "alpine-minirootfs-3.19.4-x86_64.tar.gz")); err != nil {
		t.Fatalf("real Alpine data not found (set LKPKG_ALPINE_DIR): %v", err)
	}
	return dir
}

// BuildkitdBinary is bin/buildkitd ($LKPKG_BUILDKITD, else in the repo).
func BuildkitdBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("LKPKG_BUILDKITD")
	if bin == "" {
		bin = filepath.Join(RepoRoot(), "bin", "buildkitd")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("buildkitd not built (run `make`): %v", err)
	}
	return bin
}

// Buildkitd starts a private buildkitd for the test (short state path:
// unix socket paths are limited to 108 bytes) and stops it afterwards.
func Buildkitd(t testing.TB) *buildkitd.Daemon {
	t.Helper()
	dir, err := os.MkdirTemp("", "lkt")
	if err != nil {
		t.Fatal(err)
	}
	l := &buildkitd.Daemon{StateDir: dir, Binary: BuildkitdBinary(t)}
	if _, err := l.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := l.Stop(ctx, buildkitd.StopOptions{WhileInUse: true}); err != nil {
			t.Errorf("stopping buildkitd: %v", err)
		}
		os.RemoveAll(dir)
	})
	return l
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// LkpkgBinary builds cmd/lkpkg once per test process and returns its path.
func LkpkgBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lkpkg-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "lkpkg")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/lkpkg")
		cmd.Dir = RepoRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/lkpkg: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}
