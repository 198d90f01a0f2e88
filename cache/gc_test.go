package cache

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestRemoveCollectsGarbage(t *testing.T) {
	ctx := context.Background()
	shared := testImage(t, amd64)
	onlyA := testImage(t, arm64v8)
	onlyB := testImage(t, arm64v8)
	a := testIndex(t, child{amd64, shared}, child{arm64v8, onlyA})
	b := testIndex(t, child{amd64, shared}, child{arm64v8, onlyB})
	c := cacheWith(t, map[string]v1.ImageIndex{"lkpkg/a:1": a, "lkpkg/b:1": b})

	if err := c.Remove(ctx, "lkpkg/a:1"); err != nil {
		t.Fatal(err)
	}

	have := blobNames(t, c)
	tests := []struct {
		what  string
		blobs []v1.Hash
		want  bool
	}{
		{"index a", []v1.Hash{digestOf(t, a)}, false},
		{"blob only a used", imageBlobs(t, onlyA), false},
		{"index b", []v1.Hash{digestOf(t, b)}, true},
		{"blob shared by a and b", imageBlobs(t, shared), true},
		{"blob only b uses", imageBlobs(t, onlyB), true},
	}
	for _, tt := range tests {
		for _, h := range tt.blobs {
			if have[h.Hex] != tt.want {
				t.Errorf("%s %s present = %v, want %v", tt.what, h, have[h.Hex], tt.want)
			}
		}
	}
	for _, ref := range []string{"lkpkg/a:1", "lkpkg/a:1-amd64", "lkpkg/a:1-arm64v8"} {
		if _, ok, _ := c.Resolve(ref); ok {
			t.Errorf("%s still listed after Remove", ref)
		}
	}
	if err := c.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImageIndex("lkpkg/b:1"); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveUnknownRef(t *testing.T) {
	ctx := context.Background()
	c := cacheWith(t, map[string]v1.ImageIndex{"lkpkg/a:1": newTestIndex(t)})
	index := filepath.Join(c.Dir(), "index.json")
	before := readFile(t, index)
	err := c.Remove(ctx, "lkpkg/a:1", "lkpkg/nope:2")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "lkpkg/nope:2") {
		t.Fatalf("Remove(unknown) err = %v, want ErrNotFound naming lkpkg/nope:2", err)
	}
	if !bytes.Equal(before, readFile(t, index)) {
		t.Error("failed Remove changed index.json")
	}
}
