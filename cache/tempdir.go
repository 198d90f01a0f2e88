package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/lkpkg/lkpkg/internal/flock"
)

// tmpLockSuffix names the lock file held beside each TempDir directory:
// tmp/<name> is guarded by tmp/<name>.lock.
const tmpLockSuffix = ".lock"

// TempDir creates a directory tmp/<prefix>XXXX inside the cache (on the same
// filesystem as blobs/, so files in it can be renamed into place) and holds
// an exclusive flock on tmp/<name>.lock until release is called. Prune
// never removes a directory whose lock is held, however old it is; once the
// owner is gone (release, exit or crash) the lock is free and Prune removes
// both after the usual grace period. release removes the directory and the
// lock file; it is safe to call more than once.
func (c *Cache) TempDir(prefix string) (dir string, release func(), err error) {
	if strings.ContainsAny(prefix, "/*") {
		return "", nil, fmt.Errorf("cache: invalid temp dir prefix %q", prefix)
	}
	if err := os.MkdirAll(c.tmpDir(), 0o755); err != nil {
		return "", nil, fmt.Errorf("cache: %w", err)
	}
	dir, err = os.MkdirTemp(c.tmpDir(), prefix)
	if err != nil {
		return "", nil, fmt.Errorf("cache: %w", err)
	}
	// Until the lock below is taken the directory is brand new, and Prune
	// only considers entries older than tmpMaxAge.
	lp := dir + tmpLockSuffix
	// Nobody else knows the new name yet, so this does not wait.
	unlock, err := flock.Lock(context.Background(), lp, flock.Exclusive)
	if err != nil {
		os.RemoveAll(dir)
		os.Remove(lp)
		return "", nil, fmt.Errorf("cache: %w", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			// Remove while still holding the lock, so Prune never sees
			// the directory unlocked before it is gone.
			os.RemoveAll(dir)
			os.Remove(lp)
			unlock()
		})
	}
	return dir, release, nil
}

// tryLockTemp takes the lock guarding a TempDir entry without waiting. ok is
// false if another process (or another TempDir in this one) holds it. The
// caller calls unlock to release it.
func tryLockTemp(lp string) (unlock func(), ok bool, err error) {
	unlock, err = flock.TryLock(lp, flock.Exclusive)
	if errors.Is(err, flock.ErrBusy) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return unlock, true, nil
}
