package cache

import (
	"bytes"
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

func openTest(t testing.TB) *Cache {
	t.Helper()
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func digestOf(t testing.TB, x interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := x.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// imageBlobs lists the digests of an image's manifest, config and layers.
func imageBlobs(t testing.TB, img v1.Image) []v1.Hash {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	out := []v1.Hash{digestOf(t, img), m.Config.Digest}
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
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

// checkIndex reads every image of idx back, checking each blob's digest.
func checkIndex(t testing.TB, idx v1.ImageIndex) {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatalf("child %s: %v", d.Digest, err)
		}
		checkImage(t, img)
	}
}

// checkImage reads an image's manifest, config and layers, checking digests.
func checkImage(t testing.TB, img v1.Image) {
	t.Helper()
	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if h, _, _ := v1.SHA256(bytes.NewReader(raw)); h != m.Config.Digest {
		t.Errorf("config digest %s, manifest says %s", h, m.Config.Digest)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		h, _, err := v1.SHA256(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if h != m.Layers[i].Digest {
			t.Errorf("layer %d digest %s, manifest says %s", i, h, m.Layers[i].Digest)
		}
	}
}
