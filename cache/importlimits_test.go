package cache

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// indexLast moves index.json to the end of a layout tar, as containerd's
// exporter (buildkit --output type=oci, docker buildx) orders it: names
// sorted, so blobs/ first. extra, if set, writes raw entries just before
// index.json.
func indexLast(t testing.TB, data []byte, extra func(w io.Writer)) []byte {
	t.Helper()
	var index []byte
	rest := rewriteTar(t, data, func(name string, b []byte) ([]byte, bool) {
		if name == indexFile {
			index = b
			return nil, false
		}
		return b, true
	})
	if extra != nil {
		rest = appendRaw(t, rest, extra)
	}
	return appendEntry(t, rest, indexFile, index)
}

// appendEntry adds a regular file to the end of a tar.
func appendEntry(t testing.TB, data []byte, name string, b []byte) []byte {
	t.Helper()
	return appendRaw(t, data, func(w io.Writer) {
		tw := tar.NewWriter(w)
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(b)), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
	})
}

// appendRaw writes the blocks write gives after the last entry of a tar,
// then a new end-of-archive marker.
func appendRaw(t testing.TB, data []byte, write func(w io.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.Write(data[:len(data)-1024]) // archive/tar ends with two zero blocks
	write(&buf)
	buf.Write(make([]byte, 1024))
	return buf.Bytes()
}

// TestImportBoundsSpooling: no tar entry makes Import write more than its
// descriptor allows or more than the import budget, whatever the order of
// index.json and the blobs, and a sparse entry is refused before any of it
// is spooled.
func TestImportBoundsSpooling(t *testing.T) {
	src, idxs := populated(t)
	data := exportOCI(t, src, "lkpkg/init:1")
	im := must(idxs["lkpkg/init:1"].IndexManifest())(t)
	img := must(idxs["lkpkg/init:1"].Image(im.Manifests[0].Digest))(t)
	layer := "blobs/sha256/" + imageBlobs(t, img)[2].Hex
	root := "blobs/sha256/" + digestOf(t, idxs["lkpkg/init:1"]).Hex
	const big = 8 << 20
	grow := func(name string) func(n string, b []byte) ([]byte, bool) {
		return func(n string, b []byte) ([]byte, bool) {
			if n == name {
				b = append(append([]byte{}, b...), make([]byte, big)...)
			}
			return b, true
		}
	}
	const sparseName = "blobs/sha256/0000000000000000000000000000000000000000000000000000000000000000"
	sparse := func(w io.Writer) {
		if err := testenv.WriteSparseEntry(w, sparseName, 256<<20); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		tar  func(t *testing.T) []byte
		opts ImportOptions
		// wantErr are substrings of the error; maxRead bounds how much
		// of the tar Import may read before refusing it.
		wantErr []string
		maxRead int64
	}{
		{"sparse unreferenced blob, index.json first", func(t *testing.T) []byte { return appendRaw(t, data, sparse) },
			ImportOptions{}, []string{sparseName, "sparse"}, -1},
		{"sparse unreferenced blob, index.json last", func(t *testing.T) []byte { return indexLast(t, data, sparse) },
			ImportOptions{}, []string{sparseName, "sparse"}, -1},
		{"layer larger than its descriptor", func(t *testing.T) []byte { return rewriteTar(t, data, grow(layer)) },
			ImportOptions{}, []string{layer, "descriptor says"}, big / 2},
		{"root larger than its descriptor", func(t *testing.T) []byte { return rewriteTar(t, data, grow(root)) },
			ImportOptions{}, []string{root, "descriptor says"}, big / 2},
		{"layer larger than its descriptor, index.json last", func(t *testing.T) []byte {
			return indexLast(t, rewriteTar(t, data, grow(layer)), nil)
		}, ImportOptions{MaxBytes: 1 << 20}, []string{layer, "import limit of 1.0 MiB"}, big / 2},
		{"blobs over the budget", func(t *testing.T) []byte { return data },
			ImportOptions{MaxBytes: 2048}, []string{"import limit of 2.0 KiB"}, -1},
		{"too many entries", func(t *testing.T) []byte { return data },
			ImportOptions{maxEntries: 3}, []string{"more than 3 entries"}, -1},
		{"too many index.json entries", func(t *testing.T) []byte { return data },
			ImportOptions{maxBlobs: 2}, []string{"index.json", "has 3 entries, more than 2"}, -1},
		{"too many blobs named", func(t *testing.T) []byte { return data },
			ImportOptions{maxBlobs: 4}, []string{"names more than 4 blobs"}, -1},
		{"too many blobs, index.json last", func(t *testing.T) []byte { return indexLast(t, data, nil) },
			ImportOptions{maxBlobs: 4}, []string{"has more than 4 blobs"}, -1},
		{"index.json twice", func(t *testing.T) []byte {
			return appendEntry(t, data, indexFile, []byte(`{"schemaVersion":2,"manifests":[]}`))
		}, ImportOptions{}, []string{"index.json", "twice"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := otherCache(t)
			before := readFile(t, filepath.Join(dst.Dir(), "index.json"))
			blobsBefore := blobNames(t, dst)
			in := bytes.NewReader(tt.tar(t))
			refs, err := dst.Import(context.Background(), in, tt.opts)
			read := in.Size() - int64(in.Len())
			if err == nil {
				t.Fatalf("Import() = %v, want an error", refs)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Import error %q does not contain %q", err, w)
				}
			}
			if tt.maxRead >= 0 && read > tt.maxRead {
				t.Errorf("Import read %d bytes of the tar before refusing it, want at most %d", read, tt.maxRead)
			}
			checkRefusedImport(t, dst, before, blobsBefore)
		})
	}
}

// otherCache is a cache holding a ref that the test tars do not name, so
// that only the defect under test can refuse an import into it.
func otherCache(t *testing.T) *Cache {
	t.Helper()
	return cacheWith(t, map[string]v1.ImageIndex{"lkpkg/other:1": newTestIndex(t)})
}
