package buildkitd

import (
	"strings"
	"testing"
)

func TestFindBinaryNotFound(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	// The test binary lives in a go-build temp dir, so neither next-to nor
	// ../bin can match.
	_, err := FindBinary()
	if err == nil || !strings.Contains(err.Error(), "run `make` to build bin/buildkitd") {
		t.Fatalf("FindBinary() err = %v", err)
	}
}

func TestDefaultStateDir(t *testing.T) {
	t.Setenv(StateDirEnv, "/x/state") // read by cmd/lkpkg, not here
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got, err := DefaultStateDir(); err != nil || got != "/x/cache/lkpkg/buildkit" {
		t.Errorf("with $XDG_CACHE_HOME: %q, %v", got, err)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/x/home")
	if got, err := DefaultStateDir(); err != nil || got != "/x/home/.cache/lkpkg/buildkit" {
		t.Errorf("with $HOME: %q, %v", got, err)
	}
	// No per-user place: an error, not a shared /tmp path another user
	// could have pre-created.
	t.Setenv("HOME", "")
	if got, err := DefaultStateDir(); err == nil || got != "" ||
		!strings.Contains(err.Error(), "set $HOME, $XDG_CACHE_HOME or $LKPKG_BUILDER_DIR") {
		t.Errorf("DefaultStateDir with no $HOME = %q, %v", got, err)
	}
}
