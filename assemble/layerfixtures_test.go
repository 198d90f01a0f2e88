package assemble

// Hand-built layers for assemble's tests (the layer package's own tests
// have the full set, with hostile entries).

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var extractMtime = time.Unix(1700000000, 0)

// extractTE is one entry of a hand-built layer.
type extractTE struct {
	hdr  tar.Header
	body string
}

func extractFile(name, body string) extractTE {
	return extractTE{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: extractMtime}, body: body}
}

func extractDir(name string) extractTE {
	return extractTE{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: extractMtime}}
}

func extractSym(name, target string) extractTE {
	return extractTE{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: extractMtime}}
}

// extractTar builds an uncompressed layer tar from entries, in the given order.
func extractTar(t testing.TB, entries ...extractTE) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("writing %q: %v", h.Name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func extractLayer(t testing.TB, raw []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
