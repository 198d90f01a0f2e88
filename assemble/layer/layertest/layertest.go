package layertest

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
)

// Mtime is the modification time of every entry the builders make.
var Mtime = tartest.Mtime

// Entry is one entry of a hand-built layer: its header and its data.
type Entry = tartest.Entry

// File is a regular file, 0644.
func File(name, body string) Entry { return tartest.File(name, body, 0o644) }

// Dir is a directory, 0755.
func Dir(name string) Entry { return tartest.Dir(name, 0o755) }

// Sym is a symlink to target.
func Sym(name, target string) Entry {
	return Entry{H: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: Mtime}}
}

// Hard is a hard link to target.
func Hard(name, target string) Entry {
	return Entry{H: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644, ModTime: Mtime}}
}

// Dev is a device node or fifo (tf).
func Dev(name string, tf byte, major, minor int64) Entry {
	return Entry{H: tar.Header{Typeflag: tf, Name: name, Mode: 0o600, Devmajor: major, Devminor: minor, ModTime: Mtime}}
}

// Tar builds an uncompressed layer tar (PAX) from entries, in the given
// order.
func Tar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	return tartest.Tar(t, entries)
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

// Blob is the compressed blob of Layer(raw): content to serve, or to write
// into a layout, under another layer's digest.
func Blob(t testing.TB, raw []byte) []byte {
	t.Helper()
	rc, err := Layer(t, raw).Compressed()
	var b []byte
	if err == nil {
		b, err = io.ReadAll(rc)
		rc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}
