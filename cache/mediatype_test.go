package cache

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layoutTarOf builds an OCI layout tar from an index.json and some blobs.
func layoutTarOf(t testing.TB, index []byte, blobs ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(b)), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	add("index.json", index)
	for _, b := range blobs {
		h, _, err := v1.SHA256(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		add("blobs/sha256/"+h.Hex, b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func descOf(t testing.TB, mt types.MediaType, b []byte, ref string) v1.Descriptor {
	t.Helper()
	h, n, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	d := v1.Descriptor{MediaType: mt, Digest: h, Size: n}
	if ref != "" {
		d.Annotations = map[string]string{refNameAnnotation: ref}
	}
	return d
}

func indexJSON(t testing.TB, mt types.MediaType, ds ...v1.Descriptor) []byte {
	t.Helper()
	b, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: mt, Manifests: ds})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUntypedManifestsAreWalked: a manifest named without a media type must
// still have its config and layers checked, not be taken for a leaf.
func TestUntypedManifestsAreWalked(t *testing.T) {
	img := testImage(t, amd64)
	manifest, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	config := imageBlobs(t, img)[1]
	untyped := descOf(t, "", manifest, "lkpkg/untyped:1")
	childless := descOf(t, "", manifest, "")
	index := indexJSON(t, types.OCIImageIndex, childless)
	layerBlob := []byte("not a manifest at all")

	tests := []struct {
		name    string
		tar     []byte
		wantErr string
	}{
		{"root without media type", layoutTarOf(t, indexJSON(t, "", untyped), manifest), config.String()},
		{"index child without media type", layoutTarOf(t,
			indexJSON(t, "", descOf(t, types.OCIImageIndex, index, "lkpkg/untyped:2")), index, manifest), config.String()},
		{"root that is not a manifest", layoutTarOf(t,
			indexJSON(t, "", descOf(t, "", layerBlob, "lkpkg/layer:1")), layerBlob),
			descOf(t, "", layerBlob, "").Digest.String()},
		{"root with a layer media type", layoutTarOf(t,
			indexJSON(t, "", descOf(t, types.OCILayer, layerBlob, "lkpkg/layer:2")), layerBlob),
			descOf(t, "", layerBlob, "").Digest.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			before := readFile(t, filepath.Join(c.Dir(), "index.json"))
			refs, err := c.Import(context.Background(), bytes.NewReader(tt.tar), ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Import() = %v, %v; want error naming %s", refs, err, tt.wantErr)
			}
			checkRefusedImport(t, c, before, nil)
		})
	}
}

func TestImportUntypedRootRecordsMediaType(t *testing.T) {
	ctx := context.Background()
	img := testImage(t, amd64)
	blobs := imageContents(t, img)
	manifest := blobs[0]
	c := openTest(t)
	data := layoutTarOf(t, indexJSON(t, "", descOf(t, "", manifest, "lkpkg/untyped:1")), blobs...)
	if _, err := c.Import(ctx, bytes.NewReader(data), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	d, ok, err := c.Resolve("lkpkg/untyped:1")
	if err != nil || !ok {
		t.Fatalf("Resolve = %v, %v", ok, err)
	}
	if want, _ := img.MediaType(); d.MediaType != want {
		t.Errorf("recorded media type %q, want %q", d.MediaType, want)
	}
	// Prune must keep the config and layers of the untyped-looking manifest.
	if _, err := c.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyWalksUntypedRoot(t *testing.T) {
	ctx := context.Background()
	c := openTest(t)
	img := testImage(t, amd64)
	manifest, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	d := descOf(t, "", manifest, "lkpkg/untyped:1")
	if err := os.WriteFile(c.blobPath(d.Digest), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.writeIndex([]v1.Descriptor{d}); err != nil {
		t.Fatal(err)
	}
	config := imageBlobs(t, img)[1]
	err = c.Verify(ctx)
	if err == nil || !strings.Contains(err.Error(), config.String()) {
		t.Fatalf("Verify() = %v, want error naming missing config %s", err, config)
	}

	// A root that is no manifest at all is reported, not passed as a leaf.
	junk := []byte(`{"hello":"world"}`)
	j := descOf(t, "", junk, "lkpkg/junk:1")
	if err := os.WriteFile(c.blobPath(j.Digest), junk, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.writeIndex([]v1.Descriptor{j}); err != nil {
		t.Fatal(err)
	}
	err = c.Verify(ctx)
	if err == nil || !strings.Contains(err.Error(), j.Digest.String()) {
		t.Fatalf("Verify() = %v, want error naming %s", err, j.Digest)
	}
}
