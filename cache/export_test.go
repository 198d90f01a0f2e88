package cache

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// populated is a cache holding two refs, plus one the exports leave out.
func populated(t testing.TB) (*Cache, map[string]v1.ImageIndex) {
	t.Helper()
	idxs := map[string]v1.ImageIndex{
		"lkpkg/init:1":     newTestIndex(t),
		"lkpkg/runc:2":     newTestIndex(t),
		"lkpkg/excluded:3": newTestIndex(t),
	}
	return cacheWith(t, idxs), idxs
}

func exportOCI(t testing.TB, c *Cache, refs ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Export(context.Background(), &buf, "oci", refs, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExportImportOCI(t *testing.T) {
	ctx := context.Background()
	src, idxs := populated(t)
	data := exportOCI(t, src, "lkpkg/init:1", "lkpkg/runc:2")

	dst := openTest(t)
	refs, err := dst.Import(ctx, bytes.NewReader(data), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantRefs := []string{
		"lkpkg/init:1", "lkpkg/init:1-amd64", "lkpkg/init:1-arm64v8",
		"lkpkg/runc:2", "lkpkg/runc:2-amd64", "lkpkg/runc:2-arm64v8",
	}
	if strings.Join(refs, " ") != strings.Join(wantRefs, " ") {
		t.Errorf("Import refs = %v, want %v", refs, wantRefs)
	}
	for _, ref := range []string{"lkpkg/init:1", "lkpkg/runc:2"} {
		got, err := dst.ImageIndex(ref)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := digestOf(t, got), digestOf(t, idxs[ref]); g != w {
			t.Errorf("%s imported as %s, want %s", ref, g, w)
		}
		checkIndex(t, got)
	}
	if _, ok, _ := dst.Resolve("lkpkg/excluded:3"); ok {
		t.Error("ref not asked for was exported")
	}
	if err := dst.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	// Re-importing is idempotent and exporting again is reproducible.
	if _, err := dst.Import(ctx, bytes.NewReader(data), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if again := exportOCI(t, dst, "lkpkg/init:1", "lkpkg/runc:2"); !bytes.Equal(again, data) {
		t.Error("export of imported refs differs from the original export")
	}
}

func TestImportBuildkitStyleNames(t *testing.T) {
	// buildkit records the full name in io.containerd.image.name and only
	// the tag in ref.name; the full name must win.
	src := openTest(t)
	idx := newTestIndex(t)
	writeIndex(t, src, "latest", idx)
	data := rewriteTar(t, exportOCI(t, src, "latest"), func(name string, b []byte) ([]byte, bool) {
		if name == "index.json" {
			return bytes.Replace(b, []byte(`"org.opencontainers.image.ref.name": "latest"`),
				[]byte(`"io.containerd.image.name": "docker.io/lkpkg/app:latest", "org.opencontainers.image.ref.name": "latest"`), 1), true
		}
		return b, true
	})
	dst := openTest(t)
	refs, err := dst.Import(context.Background(), bytes.NewReader(data), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) == 0 || refs[0] != "docker.io/lkpkg/app:latest" {
		t.Fatalf("Import refs = %v, want docker.io/lkpkg/app:latest first", refs)
	}
	got, err := dst.ImageIndex("lkpkg/app")
	if err != nil {
		t.Fatal(err)
	}
	if digestOf(t, got) != digestOf(t, idx) {
		t.Error("imported index digest differs")
	}
}

// rewriteTar copies a tar, passing each file through edit (false drops it).
func rewriteTar(t testing.TB, data []byte, edit func(name string, b []byte) ([]byte, bool)) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		b, keep := edit(hdr.Name, b)
		if !keep {
			continue
		}
		hdr.Size = int64(len(b))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestImportRefusesBadTar(t *testing.T) {
	src, idxs := populated(t)
	data := exportOCI(t, src, "lkpkg/init:1")
	im, err := idxs["lkpkg/init:1"].IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idxs["lkpkg/init:1"].Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	layer := "blobs/sha256/" + imageBlobs(t, img)[2].Hex
	manifest := "blobs/sha256/" + im.Manifests[1].Digest.Hex

	tests := []struct {
		name    string
		edit    func(name string, b []byte) ([]byte, bool)
		wantErr string
	}{
		{"corrupted layer", func(n string, b []byte) ([]byte, bool) {
			if n == layer {
				b = append([]byte{}, b...)
				b[0] ^= 0xff
			}
			return b, true
		}, "digest mismatch"},
		{"corrupted manifest", func(n string, b []byte) ([]byte, bool) {
			if n == manifest {
				b = bytes.Replace(b, []byte("{"), []byte(" "), 1)
			}
			return b, true
		}, "digest mismatch"},
		// Its descriptor is known by then: refused before it is spooled.
		{"manifest longer than its descriptor", func(n string, b []byte) ([]byte, bool) {
			if n == manifest {
				b = append(append([]byte{}, b...), ' ')
			}
			return b, true
		}, "descriptor says"},
		{"missing layer", func(n string, b []byte) ([]byte, bool) { return b, n != layer }, "missing from tar"},
		{"no index.json", func(n string, b []byte) ([]byte, bool) { return b, n != "index.json" }, "no index.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, _ := populated(t)
			index := filepath.Join(dst.Dir(), "index.json")
			before := readFile(t, index)
			blobsBefore := blobNames(t, dst)

			refs, err := dst.Import(context.Background(), bytes.NewReader(rewriteTar(t, data, tt.edit)), ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Import() = %v, %v; want error containing %q", refs, err, tt.wantErr)
			}
			checkRefusedImport(t, dst, before, blobsBefore)
		})
	}
}

func TestExportDocker(t *testing.T) {
	src, idxs := populated(t)
	tests := []struct {
		name     string
		platform *v1.Platform
		child    int
	}{
		{"amd64", &amd64, 0},
		{"arm64 without variant", &arm64, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "image.tar")
			refs := []string{"lkpkg/init:1", "lkpkg/runc:2"}
			if err := src.ExportFile(context.Background(), path, "docker", refs, tt.platform); err != nil {
				t.Fatal(err)
			}
			for _, ref := range refs {
				tag, err := name.NewTag(ref)
				if err != nil {
					t.Fatal(err)
				}
				got, err := tarball.ImageFromPath(path, &tag)
				if err != nil {
					t.Fatalf("tarball.ImageFromPath(%s): %v", ref, err)
				}
				im, err := idxs[ref].IndexManifest()
				if err != nil {
					t.Fatal(err)
				}
				want, err := idxs[ref].Image(im.Manifests[tt.child].Digest)
				if err != nil {
					t.Fatal(err)
				}
				gotBlobs, wantBlobs := imageBlobs(t, got)[1:], imageBlobs(t, want)[1:] // config + layers
				if len(gotBlobs) != len(wantBlobs) {
					t.Fatalf("%s: docker image has %d blobs, want %d", ref, len(gotBlobs), len(wantBlobs))
				}
				for i := range wantBlobs {
					if gotBlobs[i] != wantBlobs[i] {
						t.Errorf("%s: blob %d = %s, want %s", ref, i, gotBlobs[i], wantBlobs[i])
					}
				}
				checkImage(t, got)
			}
		})
	}
}

func TestExportErrors(t *testing.T) {
	src, _ := populated(t)
	tests := []struct {
		name, format string
		refs         []string
		wantErr      string
	}{
		{"unknown format", "zip", []string{"lkpkg/init:1"}, "zip"},
		{"unknown ref oci", "oci", []string{"lkpkg/nope:1"}, "lkpkg/nope:1"},
		{"unknown ref docker", "docker", []string{"lkpkg/nope:1"}, "lkpkg/nope:1"},
		{"no refs", "oci", nil, "no refs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := src.Export(context.Background(), io.Discard, tt.format, tt.refs, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Export() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

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
	checkRefusedImport(t, dst, before, blobsBefore)

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
