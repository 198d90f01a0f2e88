// Package userdir places lkpkg's per-user state.
package userdir

import (
	"fmt"
	"os"
	"path/filepath"
)

// CacheDir returns $env if set, else sub under lkpkg's folder in the user's
// cache directory ($XDG_CACHE_HOME, or $HOME/.cache).
//
// When neither gives a directory it fails rather than falling back to a
// shared location such as /tmp/lkpkg: another local user could create that
// first and plant a poisoned cache or a fake buildkitd socket.
func CacheDir(env, sub string) (string, error) {
	if d := os.Getenv(env); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory: set $HOME, $XDG_CACHE_HOME or $%s (%v)", env, err)
	}
	return filepath.Join(d, "lkpkg", sub), nil
}

// Cache is CacheDir without the error: it returns "" when there is no user
// cache directory, so callers fail on the empty path instead of using a
// shared one. Prefer CacheDir, whose error says what to set.
func Cache(env, sub string) string {
	d, err := CacheDir(env, sub)
	if err != nil {
		return ""
	}
	return d
}
