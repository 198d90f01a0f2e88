package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// Crafted OCI layout tars for `cache import`: blobs that expand or overrun
// their descriptor must be refused before they are written, in either
// order of index.json and blobs, and refs that are no image references
// must never reach the cache.
func init() {
	sparse := func(w io.Writer) error {
		// Named by a digest nothing refers to.
		return testenv.WriteSparseEntry(w, "blobs/sha256/"+zeroHex, 64<<30)
	}
	for _, last := range []bool{false, true} {
		order := "index.json first"
		if last {
			order = "index.json last"
		}
		registerHostile(hostileInput{
			name:       "cache import sparse 64 GiB blob, " + order,
			setup:      importCase(layoutOpts{ref: "lkpkg/x:1", indexLast: last, extra: sparse}),
			want:       []string{"blobs/sha256/" + zeroHex, "sparse file"},
			maxTime:    5 * time.Second,
			maxRSS:     128 << 20,
			maxWritten: 16 << 20,
		})
	}
	registerHostile(
		hostileInput{
			name:       "cache import blob larger than its descriptor",
			setup:      importCase(layoutOpts{ref: "lkpkg/x:1", layerPad: 64 << 20}),
			want:       []string{"bytes in tar, descriptor says"},
			maxTime:    5 * time.Second,
			maxRSS:     128 << 20,
			maxWritten: 16 << 20,
		},
		// With index.json last the descriptor comes too late: the budget
		// is what bounds the spool.
		hostileInput{
			name:       "cache import blobs over --max-size, index.json last",
			setup:      importCase(layoutOpts{ref: "lkpkg/x:1", layerPad: 64 << 20, indexLast: true}, "--max-size", "8M"),
			want:       []string{"import limit of 8.0 MiB", "--max-size"},
			maxTime:    5 * time.Second,
			maxRSS:     128 << 20,
			maxWritten: 16 << 20,
		},
		hostileInput{
			name:    "cache import ref with a newline",
			setup:   importCase(layoutOpts{ref: "lkpkg/x:1\nlkpkg/evil:2"}),
			want:    []string{`ref "lkpkg/x:1\nlkpkg/evil:2" is not a valid image reference`},
			maxTime: 5 * time.Second,
		},
		hostileInput{
			name:    "cache import ref with ../",
			setup:   importCase(layoutOpts{ref: "../../../etc/passwd"}),
			want:    []string{`ref "../../../etc/passwd" is not a valid image reference`},
			maxTime: 5 * time.Second,
		},
	)
}

const zeroHex = "0000000000000000000000000000000000000000000000000000000000000000"

// importCase is the setup of a `cache import` case: the tar of o, then
// extra arguments.
func importCase(o layoutOpts, extra ...string) func(t *testing.T, dir string) []string {
	return func(t *testing.T, dir string) []string {
		p := filepath.Join(dir, "image.tar")
		writeLayoutTar(t, p, o)
		return append(append([]string{"cache", "import"}, extra...), p)
	}
}

// layoutOpts shape the OCI layout tar of one random single-platform image
// recorded, as buildkit does, without a platform in index.json.
type layoutOpts struct {
	ref string
	// indexLast puts index.json after the blobs, as containerd's exporter
	// (buildkit, docker buildx) does; lkpkg puts it first.
	indexLast bool
	// layerPad bytes of zeros follow the layer in its tar entry, beyond
	// what its descriptor says.
	layerPad int64
	// extra writes raw tar blocks after the blobs.
	extra func(w io.Writer) error
}

func writeLayoutTar(t *testing.T, path string, o layoutOpts) {
	t.Helper()
	manifest, config, layer, index := randomImageParts(t, o.ref)
	// Streamed to the file: the test process's own memory would count in
	// lkpkg's rusage (maxrss is inherited across fork and exec).
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	add := func(name string, size int64, r io.Reader) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, r); err != nil {
			t.Fatal(err)
		}
	}
	addBytes := func(name string, b []byte) { add(name, int64(len(b)), bytes.NewReader(b)) }
	addBytes("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	if !o.indexLast {
		addBytes("index.json", index)
	}
	for _, b := range [][]byte{manifest, config} {
		addBytes("blobs/sha256/"+digestOf(t, b).Hex, b)
	}
	pad := io.LimitReader(zeros{}, o.layerPad)
	add("blobs/sha256/"+digestOf(t, layer).Hex, int64(len(layer))+o.layerPad, io.MultiReader(bytes.NewReader(layer), pad))
	if o.extra != nil {
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := o.extra(f); err != nil {
			t.Fatal(err)
		}
	}
	if o.indexLast {
		addBytes("index.json", index)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func digestOf(t *testing.T, b []byte) v1.Hash {
	t.Helper()
	h, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// randomImageParts makes a random one-layer image and returns its blobs
// and an index.json naming it ref.
func randomImageParts(t *testing.T, ref string) (manifest, config, layer, index []byte) {
	t.Helper()
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	mt, err := img.MediaType()
	if err == nil {
		manifest, err = img.RawManifest()
	}
	if err == nil {
		config, err = img.RawConfigFile()
	}
	var layers []v1.Layer
	if err == nil {
		layers, err = img.Layers()
	}
	var rc io.ReadCloser
	if err == nil {
		rc, err = layers[0].Compressed()
	}
	if err == nil {
		layer, err = io.ReadAll(rc)
		rc.Close()
	}
	if err == nil {
		index, err = json.Marshal(v1.IndexManifest{
			SchemaVersion: 2,
			MediaType:     types.OCIImageIndex,
			Manifests: []v1.Descriptor{{
				MediaType:   mt,
				Digest:      digestOf(t, manifest),
				Size:        int64(len(manifest)),
				Annotations: map[string]string{"org.opencontainers.image.ref.name": ref},
			}},
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return manifest, config, layer, index
}
