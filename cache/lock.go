package cache

import (
	"context"
	"fmt"

	"github.com/lkpkg/lkpkg/internal/flock"
)

// Lock takes an exclusive flock on <dir>/lkpkg.lock, waiting until it is free
// or ctx is done. flock locks belong to the open file, so separate Cache
// values in one process exclude each other as well as other processes.
func (c *Cache) Lock(ctx context.Context) (unlock func(), err error) {
	unlock, err = flock.Lock(ctx, c.path(lockFile), flock.Exclusive)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return unlock, nil
}
