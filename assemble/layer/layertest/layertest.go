package layertest

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Mtime is the modification time of every entry the builders make.
var Mtime = time.Unix(1700000000, 0)

// Entry is one entry of a hand-built layer: its header and its data.
type Entry struct {
	Hdr  tar.Header
	Body string
}

// File is a regular file, 0644.
func File(name, body string) Entry {
	return Entry{Hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: Mtime}, Body: body}
}

// Dir is a directory, 0755.
func Dir(name string) Entry {
	return Entry{Hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: Mtime}}
}

// Sym is a symlink to target.
func Sym(name, target string) Entry {
	return Entry{Hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: Mtime}}
}

// Hard is a hard link to target.
func Hard(name, target string) Entry {
	return Entry{Hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644, ModTime: Mtime}}
}

// Dev is a device node or fifo (tf).
func Dev(name string, tf byte, major, minor int64) Entry {
	return Entry{Hdr: tar.Header{Typeflag: tf, Name: name, Mode: 0o600, Devmajor: major, Devminor: minor, ModTime: Mtime}}
}

// Tar builds an uncompressed layer tar from entries, in the given order.
func Tar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.Hdr
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("writing %q: %v", h.Name, err)
		}
		if _, err := io.WriteString(tw, e.Body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Layer is the (gzipped by tarball) layer of an uncompressed tar.
func Layer(t testing.TB, raw []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Image is an image of one layer per tar, bottom first.
func Image(t testing.TB, layers ...[]byte) v1.Image {
	t.Helper()
	var ls []v1.Layer
	for _, raw := range layers {
		ls = append(ls, Layer(t, raw))
	}
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Read returns the entries of the tar stream r, in order, with their data.
func Read(t testing.TB, r io.Reader) []Entry {
	t.Helper()
	var out []Entry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Entry{Hdr: *h, Body: string(body)})
	}
}
