package cache

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
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
	f, err := os.OpenFile(lp, os.O_CREATE|os.O_RDWR, 0o644)
	if err == nil {
		err = flockRetry(f, unix.LOCK_EX)
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		os.Remove(lp)
		return "", nil, fmt.Errorf("cache: locking %s: %w", lp, err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			// Remove while still holding the lock, so Prune never sees
			// the directory unlocked before it is gone.
			os.RemoveAll(dir)
			os.Remove(lp)
			f.Close()
		})
	}
	return dir, release, nil
}

func flockRetry(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// tryLockTemp takes the lock guarding a TempDir entry without waiting. ok is
// false if another process (or another TempDir in this one) holds it. The
// caller closes f to release it.
func tryLockTemp(lp string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(lp, os.O_RDWR, 0)
	if err != nil {
		return nil, false, err
	}
	if err := flockRetry(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return f, true, nil
}
