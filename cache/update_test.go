package cache

import (
	"context"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Two writers adding different platforms to one ref through UpdateIndex
// both survive: the read-merge-write happens under the lock.
func TestUpdateIndexMergesConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	plats := []v1.Platform{amd64, arm64, {OS: "linux", Architecture: "riscv64"}, {OS: "linux", Architecture: "s390x"}}
	var wg sync.WaitGroup
	for _, p := range plats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Open(dir)
			if err != nil {
				t.Error(err)
				return
			}
			img := testImage(t, p)
			_, err = c.UpdateIndex(context.Background(), "x/y:1", func(old v1.ImageIndex) (v1.ImageIndex, error) {
				base := testIndex(t)
				if old != nil {
					base = old
				}
				pp := p
				return mutate.AppendManifests(base, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &pp}}), nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c, _ := Open(dir)
	idx, err := c.ImageIndex("x/y:1")
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != len(plats) {
		t.Fatalf("index holds %d platforms, want %d: an update was lost", len(im.Manifests), len(plats))
	}
	if err := c.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
}
