package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

const lockPoll = 50 * time.Millisecond

// Lock takes an exclusive flock on <dir>/lkpkg.lock, waiting until it is free
// or ctx is done. flock locks belong to the open file, so separate Cache
// values in one process exclude each other as well as other processes.
func (c *Cache) Lock(ctx context.Context) (unlock func(), err error) {
	p := c.path(lockFile)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cache: opening lock %s: %w", p, err)
	}
	// Polling LOCK_NB rather than blocking in flock lets us honour ctx.
	for {
		if err := ctx.Err(); err != nil {
			f.Close()
			return nil, fmt.Errorf("cache: waiting for lock %s: %w", p, err)
		}
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("cache: locking %s: %w", p, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(lockPoll):
		}
	}
	var once sync.Once
	// Closing the file releases the flock.
	return func() { once.Do(func() { f.Close() }) }, nil
}
