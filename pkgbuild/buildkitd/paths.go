package buildkitd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lkpkg/lkpkg/internal/userdir"
)

// Environment variables cmd/lkpkg reads for this package (the package
// itself reads none); they are named here so errors can point at them.
const (
	StateDirEnv = "LKPKG_BUILDER_DIR" // overrides DefaultStateDir
	BinaryEnv   = "LKPKG_BUILDKITD"   // sets Daemon.Binary
)

// DefaultStateDir returns where the embedded buildkitd keeps its state by
// default: $XDG_CACHE_HOME/lkpkg/buildkit, else ~/.cache/lkpkg/buildkit; an
// error if neither is set (there is no shared fallback such as /tmp, which
// another user could pre-create).
func DefaultStateDir() (string, error) { return userdir.CacheDir("buildkit", "$"+StateDirEnv) }

// FindBinary locates buildkitd when Daemon.Binary is not set: next to the
// running executable (symlinks resolved), else ../bin/buildkitd relative
// to it (the layout `make` produces and `go test` binaries sit near), else
// $PATH.
func FindBinary() (string, error) {
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
	return "", fmt.Errorf("buildkitd not found (looked at %s); set $%s or run `make` to build bin/buildkitd",
		strings.Join(tried, ", "), BinaryEnv)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
