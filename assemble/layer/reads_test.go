package layer

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lkpkg/lkpkg/assemble/layer/layertest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// extractCounted counts the reads of a layer's compressed blob (each one a
// download, for a remote image) and can serve another blob under the same
// digest from a given read on.
type extractCounted struct {
	v1.Layer
	mu    *sync.Mutex
	reads map[v1.Hash]int // per digest, shared by layers of the same digest
	evil  []byte          // served from read number from on (1-based), if set
	from  int
}

func (l *extractCounted) Compressed() (io.ReadCloser, error) {
	d, err := l.Digest()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.reads[d]++
	n := l.reads[d]
	l.mu.Unlock()
	if l.evil != nil && n >= l.from {
		return io.NopCloser(bytes.NewReader(l.evil)), nil
	}
	return l.Layer.Compressed()
}

func extractCountedImage(t *testing.T, layers ...v1.Layer) (v1.Image, map[v1.Hash]int) {
	t.Helper()
	mu, reads := &sync.Mutex{}, map[v1.Hash]int{}
	var ls []v1.Layer
	for _, l := range layers {
		ls = append(ls, &extractCounted{Layer: l, mu: mu, reads: reads})
	}
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		t.Fatal(err)
	}
	return img, reads
}

// Each blob is prechecked once per extraction, then read once per pass
// that needs it: three reads for a layer whose data is written, not four.
func TestExtractReadsEachBlobOnce(t *testing.T) {
	l1 := layertest.Layer(t, layertest.Tar(t, layertest.File("a", "one"), layertest.File("b", "bee")))
	l2 := layertest.Layer(t, layertest.Tar(t, layertest.File("c", "two")))
	d1, _ := l1.Digest()
	d2, _ := l2.Digest()
	for _, tc := range []struct {
		name   string
		layers []v1.Layer
		want   map[v1.Hash]int
	}{
		{"two layers", []v1.Layer{l1, l2}, map[v1.Hash]int{d1: 3, d2: 3}},
		// The same blob twice: one check, one read per layer in pass 1,
		// one in pass 2 (the upper copy has all the data).
		{"one blob twice", []v1.Layer{l1, l1}, map[v1.Hash]int{d1: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, how := range []string{"Rootfs", "Unpack"} {
				img, reads := extractCountedImage(t, tc.layers...)
				var err error
				if how == "Rootfs" {
					_, err = extractRootfs(t, img, "", Options{})
				} else {
					err = Unpack(filepath.Join(t.TempDir(), "r"), img, Options{})
				}
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
				for d, n := range tc.want {
					if reads[d] != n {
						t.Errorf("%s: blob %s read %d times, want %d", how, d.Hex[:12], reads[d], n)
					}
				}
			}
		})
	}
}

// The precheck is not repeated, but every read is still verified at EOF: a
// blob that changes after the check (the first read), before pass 1 or
// before pass 2, is refused.
func TestExtractBlobChangedAfterPrecheck(t *testing.T) {
	good := layertest.Layer(t, layertest.Tar(t, layertest.File("a", "good")))
	evil := layertest.Blob(t, layertest.Tar(t, layertest.File("a", "evil")))
	for _, from := range []int{2, 3} {
		for _, how := range []string{"Rootfs", "Unpack"} {
			l := &extractCounted{Layer: good, mu: &sync.Mutex{}, reads: map[v1.Hash]int{}, evil: evil, from: from}
			img, err := mutate.AppendLayers(empty.Image, l)
			if err != nil {
				t.Fatal(err)
			}
			if how == "Rootfs" {
				_, err = extractRootfs(t, img, "", Options{})
			} else {
				err = Unpack(filepath.Join(t.TempDir(), "r"), img, Options{})
			}
			if !errors.Is(err, ErrLayerDigest) {
				t.Errorf("%s, changed from read %d: err = %v, want a digest mismatch", how, from, err)
			}
		}
	}
}
