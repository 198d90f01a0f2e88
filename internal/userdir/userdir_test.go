package userdir

import (
	"strings"
	"testing"
)

func TestCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/xdg")
	t.Setenv("HOME", "/x/home")
	if got, err := CacheDir("sub", "$LKPKG_TEST_DIR"); err != nil || got != "/x/xdg/lkpkg/sub" {
		t.Errorf("with $XDG_CACHE_HOME: %q, %v", got, err)
	}

	t.Setenv("XDG_CACHE_HOME", "")
	if got, err := CacheDir("sub", "$LKPKG_TEST_DIR"); err != nil || got != "/x/home/.cache/lkpkg/sub" {
		t.Errorf("with $HOME: %q, %v", got, err)
	}
}

// With no $HOME and no $XDG_CACHE_HOME there is no per-user place; a shared
// fallback such as /tmp/lkpkg could be pre-created by another user, so it
// must be an error.
func TestCacheDirNoUserDir(t *testing.T) {
	t.Setenv("LKPKG_TEST_DIR", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	got, err := CacheDir("sub", "$LKPKG_TEST_DIR")
	if err == nil {
		t.Fatalf("CacheDir = %q, want an error", got)
	}
	if got != "" {
		t.Errorf("CacheDir returned %q alongside the error", got)
	}
	want := "no user cache directory: set $HOME, $XDG_CACHE_HOME or $LKPKG_TEST_DIR"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}

	// A relative $XDG_CACHE_HOME is not a usable user cache directory either.
	t.Setenv("XDG_CACHE_HOME", "relative/cache")
	if got, err := CacheDir("sub", "$LKPKG_TEST_DIR"); err == nil {
		t.Errorf("relative $XDG_CACHE_HOME: CacheDir = %q, want an error", got)
	}
}
