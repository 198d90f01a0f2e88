package cache

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

var (
	amd64   = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64v8 = v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	arm64   = v1.Platform{OS: "linux", Architecture: "arm64"}
)

// testImage is a random image whose config records platform, as a real
// build's would.
func testImage(t testing.TB, p v1.Platform) v1.Image {
	t.Helper()
	return testenv.PlatformImage(t, p, 512, 2)
}

// child is one platform image of a test index.
type child struct {
	p   v1.Platform
	img v1.Image
}

// testIndex is an OCI index of children, each tagged with its platform.
func testIndex(t testing.TB, children ...child) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, ch := range children {
		p := ch.p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        ch.img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	return idx
}

// newTestIndex is an index with fresh linux/amd64 and linux/arm64/v8 images.
func newTestIndex(t testing.TB) v1.ImageIndex {
	t.Helper()
	return testIndex(t, child{amd64, testImage(t, amd64)}, child{arm64v8, testImage(t, arm64v8)})
}

// must returns v, failing the test (at the caller's line) if err is set:
// must(f())(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func openTest(t testing.TB) *Cache {
	t.Helper()
	return must(Open(t.TempDir()))(t)
}

// cacheWith is a new cache holding idxs (ref -> index).
func cacheWith(t testing.TB, idxs map[string]v1.ImageIndex) *Cache {
	t.Helper()
	c := openTest(t)
	for ref, idx := range idxs {
		writeIndex(t, c, ref, idx)
	}
	return c
}

// writeIndex stores idx in c as ref.
func writeIndex(t testing.TB, c *Cache, ref string, idx v1.ImageIndex) v1.Descriptor {
	t.Helper()
	return must(c.WriteIndex(context.Background(), ref, idx))(t)
}

func digestOf(t testing.TB, x interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	return must(x.Digest())(t)
}

// imageBlobs lists the digests of an image's manifest, config and layers.
func imageBlobs(t testing.TB, img v1.Image) []v1.Hash {
	t.Helper()
	m := must(img.Manifest())(t)
	out := []v1.Hash{digestOf(t, img), m.Config.Digest}
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// imageContents reads an image's raw manifest, config and compressed
// layers: the blobs imageBlobs names, in the same order.
func imageContents(t testing.TB, img v1.Image) [][]byte {
	t.Helper()
	out := [][]byte{must(img.RawManifest())(t), must(img.RawConfigFile())(t)}
	for _, l := range must(img.Layers())(t) {
		rc := must(l.Compressed())(t)
		out = append(out, must(io.ReadAll(rc))(t))
		rc.Close()
	}
	return out
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	return must(os.ReadFile(p))(t)
}

// corruptBlob flips one byte of a stored blob.
func corruptBlob(t testing.TB, c *Cache, h v1.Hash) {
	t.Helper()
	p := filepath.Join(c.Dir(), "blobs", h.Algorithm, h.Hex)
	b := readFile(t, p)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func blobNames(t testing.TB, c *Cache) map[string]bool {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(c.Dir(), "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, de := range des {
		out[de.Name()] = true
	}
	return out
}

// checkRefusedImport fails t unless a refused import left dst as it was:
// index.json byte for byte (before), the same number of blobs, nothing in
// tmp/.
func checkRefusedImport(t testing.TB, dst *Cache, before []byte, blobsBefore map[string]bool) {
	t.Helper()
	if !bytes.Equal(before, readFile(t, filepath.Join(dst.Dir(), "index.json"))) {
		t.Error("refused import changed index.json")
	}
	if after := blobNames(t, dst); len(after) != len(blobsBefore) {
		t.Errorf("refused import stored blobs: %d before, %d after", len(blobsBefore), len(after))
	}
	if des, _ := os.ReadDir(filepath.Join(dst.Dir(), "tmp")); len(des) != 0 {
		t.Errorf("refused import left %d files in tmp/", len(des))
	}
}

// checkIndex reads every image of idx back, checking each blob's digest.
func checkIndex(t testing.TB, idx v1.ImageIndex) {
	t.Helper()
	for _, d := range must(idx.IndexManifest())(t).Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatalf("child %s: %v", d.Digest, err)
		}
		checkImage(t, img)
	}
}

// checkImage reads an image's config and layers, checking their digests
// against its manifest.
func checkImage(t testing.TB, img v1.Image) {
	t.Helper()
	m := must(img.Manifest())(t)
	want := append([]v1.Descriptor{m.Config}, m.Layers...)
	for i, b := range imageContents(t, img)[1:] {
		if h, _, _ := v1.SHA256(bytes.NewReader(b)); h != want[i].Digest {
			t.Errorf("blob %d (config, then layers) digest %s, manifest says %s", i, h, want[i].Digest)
		}
	}
}
