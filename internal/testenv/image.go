package testenv

import (
	"archive/tar"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// EachFile calls fn for every entry of img's flattened file system, in
// tar order; r reads the entry's content.
func EachFile(t testing.TB, img v1.Image, fn func(h *tar.Header, r io.Reader)) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	EachTarEntry(t, rc, fn)
}

// EachTarEntry calls fn for every entry of the tar stream tarball, in
// order; r reads the entry's content.
func EachTarEntry(t testing.TB, tarball io.Reader, fn func(h *tar.Header, r io.Reader)) {
	t.Helper()
	tr := tar.NewReader(tarball)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fn(h, tr)
	}
}

// ImageFile is the content of path (a leading "/" does not matter) in
// img's flattened file system, and whether it is there.
func ImageFile(t testing.TB, img v1.Image, path string) (string, bool) {
	t.Helper()
	path = strings.TrimPrefix(path, "/")
	var content []byte
	found := false
	EachFile(t, img, func(h *tar.Header, r io.Reader) {
		if found || strings.TrimPrefix(h.Name, "/") != path {
			return
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		content, found = b, true
	})
	return string(content), found
}

// PlatformImage is a random image (layers layers of size bytes) whose
// config names platform p, as a real build's would.
func PlatformImage(t testing.TB, p v1.Platform, size, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(size, layers)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
