package cache

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestConcurrentWriters(t *testing.T) {
	const writers = 16
	ctx := context.Background()
	dir := t.TempDir()

	// Build images up front so the goroutines race only on the cache.
	idxs := make([]v1.ImageIndex, writers)
	for i := range idxs {
		idxs[i] = newTestIndex(t)
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Open(dir) // a Cache per writer, as separate processes would have
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = c.WriteIndex(ctx, fmt.Sprintf("lkpkg/pkg%02d:v1", i), idxs[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}

	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3*writers {
		t.Errorf("List has %d entries, want %d (index + 2 arches per writer)", len(entries), 3*writers)
	}
	for i, idx := range idxs {
		ref := fmt.Sprintf("lkpkg/pkg%02d:v1", i)
		d, ok, err := c.Resolve(ref)
		if err != nil || !ok {
			t.Fatalf("Resolve(%s) = %v, %v", ref, ok, err)
		}
		if want := digestOf(t, idx); d.Digest != want {
			t.Errorf("%s = %s, want %s", ref, d.Digest, want)
		}
	}
	if err := c.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLockHonoursContext(t *testing.T) {
	dir := t.TempDir()
	a, b := must(Open(dir))(t), must(Open(dir))(t)
	unlock := must(a.Lock(context.Background()))(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	if _, err := b.Lock(ctx); err == nil || !strings.Contains(err.Error(), "lkpkg.lock") {
		t.Fatalf("second Lock while held: err = %v, want timeout naming lkpkg.lock", err)
	}
	unlock()
	unlock() // idempotent
	unlockB, err := b.Lock(context.Background())
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	unlockB()
}
