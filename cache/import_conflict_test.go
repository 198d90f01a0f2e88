package cache

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportRefusesToReplaceDifferentContent(t *testing.T) {
	ctx := context.Background()
	src, idxs := populated(t)
	data := exportOCI(t, src, "lkpkg/init:1")

	dst, dstIdxs := populated(t) // its lkpkg/init:1 is another random index
	index := filepath.Join(dst.Dir(), "index.json")
	before := readFile(t, index)
	blobsBefore := blobNames(t, dst)

	refs, err := dst.Import(ctx, bytes.NewReader(data), ImportOptions{})
	if !errors.Is(err, ErrRefExists) {
		t.Fatalf("Import() = %v, %v; want ErrRefExists", refs, err)
	}
	have, want := digestOf(t, dstIdxs["lkpkg/init:1"]), digestOf(t, idxs["lkpkg/init:1"])
	for _, s := range []string{"lkpkg/init:1", "lkpkg/init:1-amd64", have.String(), want.String()} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	if !bytes.Equal(before, readFile(t, index)) {
		t.Error("refused import changed index.json")
	}
	if after := blobNames(t, dst); len(after) != len(blobsBefore) {
		t.Errorf("refused import stored blobs: %d before, %d after", len(blobsBefore), len(after))
	}
	if des, _ := os.ReadDir(filepath.Join(dst.Dir(), "tmp")); len(des) != 0 {
		t.Errorf("refused import left %d files in tmp/", len(des))
	}

	if _, err := dst.Import(ctx, bytes.NewReader(data), ImportOptions{ReplaceRefs: true}); err != nil {
		t.Fatalf("Import with Force: %v", err)
	}
	got, err := dst.ImageIndex("lkpkg/init:1")
	if err != nil {
		t.Fatal(err)
	}
	if digestOf(t, got) != want {
		t.Errorf("forced import left %s, want %s", digestOf(t, got), want)
	}
	if err := dst.Verify(ctx); err != nil {
		t.Fatal(err)
	}

	// The same content again is a no-op, with or without Force.
	before = readFile(t, index)
	for _, force := range []bool{false, true} {
		refs, err := dst.Import(ctx, bytes.NewReader(data), ImportOptions{ReplaceRefs: force})
		if err != nil {
			t.Fatalf("re-import (force=%v): %v", force, err)
		}
		if len(refs) != 3 {
			t.Errorf("re-import refs = %v, want 3", refs)
		}
		if !bytes.Equal(before, readFile(t, index)) {
			t.Errorf("re-import of identical content (force=%v) changed index.json", force)
		}
	}
}
