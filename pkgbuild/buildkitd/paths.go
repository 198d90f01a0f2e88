package buildkitd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lkpkg/lkpkg/internal/userdir"
)

// ResolveStateDir returns where the embedded builder keeps its state:
// $LKPKG_BUILDER_DIR, else $XDG_CACHE_HOME/lkpkg/buildkit, else
// ~/.cache/lkpkg/buildkit; an error if none of them is set (there is no
// shared fallback such as /tmp, which another user could pre-create).
func ResolveStateDir() (string, error) { return userdir.CacheDir("LKPKG_BUILDER_DIR", "buildkit") }

// DefaultStateDir is ResolveStateDir without the error: "" when there is no
// user cache directory, which Local's methods then reject with an error
// saying what to set.
func DefaultStateDir() string {
	d, _ := ResolveStateDir()
	return d
}

// FindBinary locates buildkitd: $LKPKG_BUILDKITD, else next to the running
// executable (symlinks resolved), else ../bin/buildkitd relative to it (the
// layout `make` produces and `go test` binaries sit near), else $PATH.
func FindBinary() (string, error) {
	if p := os.Getenv("LKPKG_BUILDKITD"); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("buildkitd: $LKPKG_BUILDKITD=%s is not an executable file", p)
	}
	var tried []string
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		dir := filepath.Dir(exe)
		for _, c := range []string{
			filepath.Join(dir, "buildkitd"),
			filepath.Join(dir, "..", "bin", "buildkitd"),
		} {
			if isExecutable(c) {
				return c, nil
			}
			tried = append(tried, c)
		}
	}
	if p, err := exec.LookPath("buildkitd"); err == nil {
		return p, nil
	}
	tried = append(tried, "$PATH")
	return "", fmt.Errorf("buildkitd not found (looked at $LKPKG_BUILDKITD, %s); run `make` to build bin/buildkitd",
		strings.Join(tried, ", "))
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
