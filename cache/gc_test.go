package cache

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestRemoveCollectsGarbage(t *testing.T) {
	ctx := context.Background()
	c := openTest(t)
	shared := testImage(t, amd64)
	onlyA := testImage(t, arm64v8)
	onlyB := testImage(t, arm64v8)
	a := testIndex(t, child{amd64, shared}, child{arm64v8, onlyA})
	b := testIndex(t, child{amd64, shared}, child{arm64v8, onlyB})
	if _, err := c.WriteIndex(ctx, "lkpkg/a:1", a); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteIndex(ctx, "lkpkg/b:1", b); err != nil {
		t.Fatal(err)
	}

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
	c := openTest(t)
	if _, err := c.WriteIndex(ctx, "lkpkg/a:1", newTestIndex(t)); err != nil {
		t.Fatal(err)
	}
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

func TestPrune(t *testing.T) {
	ctx := context.Background()
	c := openTest(t)
	if _, err := c.WriteIndex(ctx, "lkpkg/a:1", newTestIndex(t)); err != nil {
		t.Fatal(err)
	}
	write := func(p string, size int, age time.Duration) {
		t.Helper()
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-age)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	stale := filepath.Join(c.Dir(), "tmp", "blob-stale")
	fresh := filepath.Join(c.Dir(), "tmp", "blob-fresh")
	orphan := filepath.Join(c.Dir(), "blobs", "sha256", strings.Repeat("ab", 32))
	write(stale, 100, 2*time.Hour)
	write(fresh, 10, time.Minute)
	write(orphan, 1000, 0)

	n, err := c.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1100 {
		t.Errorf("Prune removed %d bytes, want 1100", n)
	}
	checkPruned(t, []string{stale, orphan}, []string{fresh})
	if err := c.Verify(ctx); err != nil {
		t.Fatalf("Prune broke the cache: %v", err)
	}
}
