package buildkitd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindBinaryHonoursEnv(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "my-buildkitd")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LKPKG_BUILDKITD", fake)
	got, err := FindBinary()
	if err != nil || got != fake {
		t.Fatalf("FindBinary() = %q, %v; want %q", got, err, fake)
	}

	t.Setenv("LKPKG_BUILDKITD", filepath.Join(t.TempDir(), "missing"))
	if _, err := FindBinary(); err == nil || !strings.Contains(err.Error(), "LKPKG_BUILDKITD") {
		t.Fatalf("FindBinary() with a missing $LKPKG_BUILDKITD: err = %v", err)
	}
}

func TestFindBinaryNotFound(t *testing.T) {
	t.Setenv("LKPKG_BUILDKITD", "")
	t.Setenv("PATH", t.TempDir())
	// The test binary lives in a go-build temp dir, so neither next-to nor
	// ../bin can match.
	_, err := FindBinary()
	if err == nil || !strings.Contains(err.Error(), "run `make` to build bin/buildkitd") {
		t.Fatalf("FindBinary() err = %v", err)
	}
}

func TestDefaultStateDir(t *testing.T) {
	t.Setenv("LKPKG_BUILDER_DIR", "/x/state")
	if got := DefaultStateDir(); got != "/x/state" {
		t.Errorf("with $LKPKG_BUILDER_DIR: %q", got)
	}
	t.Setenv("LKPKG_BUILDER_DIR", "")
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got := DefaultStateDir(); got != "/x/cache/lkpkg/buildkit" {
		t.Errorf("with $XDG_CACHE_HOME: %q", got)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/x/home")
	if got := DefaultStateDir(); got != "/x/home/.cache/lkpkg/buildkit" {
		t.Errorf("with $HOME: %q", got)
	}
	// No per-user place: an error, not a shared /tmp path another user
	// could have pre-created.
	t.Setenv("HOME", "")
	if got := DefaultStateDir(); got != "" {
		t.Errorf("with no $HOME: %q, want \"\"", got)
	}
	if got, err := ResolveStateDir(); err == nil || got != "" ||
		!strings.Contains(err.Error(), "set $HOME, $XDG_CACHE_HOME or $LKPKG_BUILDER_DIR") {
		t.Errorf("ResolveStateDir with no $HOME = %q, %v", got, err)
	}
}
