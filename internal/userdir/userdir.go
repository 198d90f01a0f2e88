package userdir

import (
	"fmt"
	"os"
	"path/filepath"
)

// CacheDir returns sub under lkpkg's folder in the user's cache directory
// ($XDG_CACHE_HOME, or $HOME/.cache, as os.UserCacheDir finds it).
// override names what else the user may set instead (e.g.
// "$LKPKG_CACHE"); it only goes into the error.
//
// When there is no user cache directory it fails rather than falling back
// to a shared location such as /tmp/lkpkg: another local user could create
// that first and plant a poisoned cache or a fake buildkitd socket.
func CacheDir(sub, override string) (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory: set $HOME, $XDG_CACHE_HOME or %s (%v)", override, err)
	}
	return filepath.Join(d, "lkpkg", sub), nil
}
