package cache

import (
	"context"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestContentStoreReadsLayout(t *testing.T) {
	ctx := context.Background()
	c := openTest(t)
	idx := newTestIndex(t)
	desc, err := c.WriteIndex(ctx, "lkpkg/cs:1", idx)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := c.ContentStore()
	if err != nil {
		t.Fatal(err)
	}
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
