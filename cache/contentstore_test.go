package cache

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// contentStoreFixture is a cache holding one index, and its content store.
func contentStoreFixture(t *testing.T) (c *Cache, idx v1.ImageIndex, desc v1.Descriptor, cs content.Store) {
	t.Helper()
	c = openTest(t)
	idx = newTestIndex(t)
	desc = writeIndex(t, c, "lkpkg/cs:1", idx)
	return c, idx, desc, must(c.ContentStore())(t)
}

func TestContentStoreReadsLayout(t *testing.T) {
	ctx := context.Background()
	_, idx, desc, cs := contentStoreFixture(t)
	dgst := digest.Digest(desc.Digest.String())
	info, err := cs.Info(ctx, dgst)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != desc.Size {
		t.Errorf("Info size = %d, want %d", info.Size, desc.Size)
	}
	got, err := content.ReadBlob(ctx, cs, ocispec.Descriptor{Digest: dgst, Size: desc.Size})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := idx.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(raw) {
		t.Error("content store returned different index bytes")
	}
}

func TestContentStoreIsReadOnly(t *testing.T) {
	ctx := context.Background()
	c, _, desc, cs := contentStoreFixture(t)
	before := blobNames(t, c)
	if _, err := os.Stat(filepath.Join(c.Dir(), "ingest")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ContentStore created %s/ingest (stat err %v)", c.Dir(), err)
	}
	dgst := digest.Digest(desc.Digest.String())

	if err := cs.Delete(ctx, dgst); !errdefs.IsPermissionDenied(err) {
		t.Errorf("Delete err = %v, want ErrPermissionDenied", err)
	}
	if _, err := cs.Update(ctx, content.Info{Digest: dgst, Labels: map[string]string{"a": "b"}}, "labels.a"); !errdefs.IsPermissionDenied(err) {
		t.Errorf("Update err = %v, want ErrPermissionDenied", err)
	}
	if err := cs.Abort(ctx, "some-ref"); !errdefs.IsPermissionDenied(err) {
		t.Errorf("Abort err = %v, want ErrPermissionDenied", err)
	}
	data := []byte("smuggled blob")
	err := content.WriteBlob(ctx, cs, "smuggle", bytes.NewReader(data),
		ocispec.Descriptor{Digest: digest.FromBytes(data), Size: int64(len(data))})
	if !errdefs.IsPermissionDenied(err) {
		t.Errorf("WriteBlob err = %v, want ErrPermissionDenied", err)
	}
	if _, err := cs.Info(ctx, dgst); err != nil {
		t.Errorf("blob gone after refused Delete: %v", err)
	}
	if _, err := cs.Info(ctx, digest.FromBytes(data)); !errdefs.IsNotFound(err) {
		t.Errorf("Info(unknown) err = %v, want ErrNotFound", err)
	}
	if after := blobNames(t, c); len(after) != len(before) {
		t.Errorf("blobs changed through read-only store: %d before, %d after", len(before), len(after))
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), "ingest")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("content store created %s/ingest (stat err %v)", c.Dir(), err)
	}

	if sts, err := cs.ListStatuses(ctx); err != nil || len(sts) != 0 {
		t.Errorf("ListStatuses = %v, %v; want none", sts, err)
	}
	if _, err := cs.Status(ctx, "smuggle"); !errdefs.IsNotFound(err) {
		t.Errorf("Status err = %v, want ErrNotFound", err)
	}

	walked := map[string]int64{}
	if err := cs.Walk(ctx, func(i content.Info) error {
		walked[i.Digest.Encoded()] = i.Size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(walked) != len(before) {
		t.Errorf("Walk saw %d blobs, want %d", len(walked), len(before))
	}
	if walked[desc.Digest.Hex] != desc.Size {
		t.Errorf("Walk size of index = %d, want %d", walked[desc.Digest.Hex], desc.Size)
	}
	n := 0
	if err := cs.Walk(ctx, func(content.Info) error { n++; return nil }, "digest=="+dgst.String()); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("filtered Walk saw %d blobs, want 1", n)
	}
}
