package cache

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// tmpMaxAge is how old a tmp/ file must be before Prune treats it as debris
// from a crashed writer rather than work in progress.
const tmpMaxAge = time.Hour

// Remove drops the entries for refs and their per-arch children, then
// deletes blobs no longer reachable from index.json.
func (c *Cache) Remove(ctx context.Context, refs ...string) error {
	unlock, err := c.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	im, err := c.readIndex()
	if err != nil {
		return err
	}
	entries := im.Manifests
	var missing []string
	drop := map[string]bool{}
	for _, r := range refs {
		if _, ok := findRef(entries, r); !ok {
			missing = append(missing, r)
			continue
		}
		for n := range c.namesOf(entries, r) {
			drop[n] = true
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("cache: remove %s: %w", strings.Join(missing, ", "), ErrNotFound)
	}
	entries = dropNames(entries, drop)
	if err := c.writeIndex(entries); err != nil {
		return err
	}
	if _, err := c.gc(ctx, entries); err != nil {
		return fmt.Errorf("cache: removed %s but garbage collection failed: %w", strings.Join(refs, ", "), err)
	}
	return nil
}

// Prune deletes tmp/ files left by crashed writers and unreferenced blobs.
func (c *Cache) Prune(ctx context.Context) (removedBytes int64, err error) {
	unlock, err := c.Lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()

	removedBytes, err = c.pruneTmp(time.Now().Add(-tmpMaxAge))
	if err != nil {
		return removedBytes, err
	}
	im, err := c.readIndex()
	if err != nil {
		return removedBytes, err
	}
	n, err := c.gc(ctx, im.Manifests)
	return removedBytes + n, err
}

// pruneTmp removes top-level tmp/ entries older than before. A directory
// made by TempDir is removed only if its lock is free (its owner released
// it, exited or crashed), and then together with its lock file; a lock file
// whose directory is gone is removed once free. Entries whose lock is held
// are kept however old they are.
func (c *Cache) pruneTmp(before time.Time) (int64, error) {
	des, err := os.ReadDir(c.tmpDir())
	if err != nil {
		return 0, fmt.Errorf("cache: %w", err)
	}
	present := make(map[string]bool, len(des))
	for _, de := range des {
		present[de.Name()] = true
	}
	var total int64
	for _, de := range des {
		name := de.Name()
		base, isLock := strings.CutSuffix(name, tmpLockSuffix)
		if isLock && present[base] {
			continue // pruned with its directory
		}
		p := filepath.Join(c.tmpDir(), name)
		paths := []string{p}
		lock := ""
		switch {
		case isLock:
			lock = p
		case present[name+tmpLockSuffix]:
			lock = p + tmpLockSuffix
			paths = append(paths, lock)
		}
		if !allOlder(paths, before) {
			continue
		}
		if lock != "" {
			unlock, ok, err := tryLockTemp(lock)
			if err != nil || !ok {
				// In use, released meanwhile, or not ours to judge.
				continue
			}
			n, err := removePaths(paths) // while holding the lock
			unlock()
			total += n
			if err != nil {
				return total, err
			}
			continue
		}
		n, err := removePaths(paths)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func allOlder(paths []string, before time.Time) bool {
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil || !fi.ModTime().Before(before) {
			return false
		}
	}
	return true
}

// removePaths removes each path (a file or a tree), returning the bytes freed.
func removePaths(paths []string) (int64, error) {
	var total int64
	for _, p := range paths {
		size := treeSize(p)
		if err := os.RemoveAll(p); err != nil {
			return total, fmt.Errorf("cache: pruning %s: %w", p, err)
		}
		total += size
	}
	return total, nil
}

func treeSize(p string) int64 {
	var n int64
	filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// gc deletes blobs unreachable from entries. The caller holds the lock, so
// no writer has blobs in flight. If the graph cannot be walked completely
// nothing is deleted: a blob we could not see past may own live children.
func (c *Cache) gc(ctx context.Context, entries []v1.Descriptor) (int64, error) {
	live, err := c.reachable(ctx, entries)
	if err != nil {
		return 0, err
	}
	keep := make(map[string]bool, len(live))
	for _, d := range live {
		keep[d.Digest.Hex] = true
	}
	des, err := os.ReadDir(c.blobDir())
	if err != nil {
		return 0, fmt.Errorf("cache: %w", err)
	}
	var total int64
	for _, de := range des {
		hx := de.Name()
		if keep[hx] || !isSHA256Hex(hx) {
			continue
		}
		p := filepath.Join(c.blobDir(), hx)
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return total, fmt.Errorf("cache: deleting blob sha256:%s: %w", hx, err)
		}
		total += fi.Size()
	}
	return total, syncDir(c.blobDir())
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
