package layer

import (
	"errors"
	"github.com/lkpkg/lkpkg/assemble/layer/layertest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// A blob that does not match its digest never reaches the decompressor:
// garbage that is not even gzip is reported as a digest mismatch, not as a
// gzip error, and nothing is extracted.
func TestHostileBlobRefusedBeforeDecompression(t *testing.T) {
	good := layertest.Layer(t, layertest.Tar(t, layertest.File("a", "good")))
	for name, blob := range map[string][]byte{
		"not gzip":             []byte("this is not a gzip stream at all"),
		"gzip header, garbage": append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, strings.Repeat("\xff", 64)...),
		"empty":                {},
	} {
		t.Run(name, func(t *testing.T) {
			img, err := mutate.AppendLayers(empty.Image, extractTampered{Layer: good, blob: blob})
			if err != nil {
				t.Fatal(err)
			}
			_, err = extractRootfs(t, img, "", Options{})
			if !errors.Is(err, ErrLayerDigest) {
				t.Fatalf("err = %v, want a digest mismatch", err)
			}
			if strings.Contains(err.Error(), "gzip") || strings.Contains(err.Error(), "flate") {
				t.Fatalf("the decompressor saw the blob: %v", err)
			}
		})
	}
}
