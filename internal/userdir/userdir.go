// Package userdir places lkpkg's per-user state.
package userdir

import (
	"os"
	"path/filepath"
)

// Cache returns $env if set, else sub under lkpkg's folder in the user's
// cache directory ($XDG_CACHE_HOME or ~/.cache), else under the temp dir:
// a predictable path beats failing outright.
func Cache(env, sub string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "lkpkg", sub)
	}
	return filepath.Join(os.TempDir(), "lkpkg", sub)
}
