package cache

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/internal/units"
)

// maxIndexJSON bounds how much of a tar's index.json we hold in memory.
const maxIndexJSON = 64 << 20

// layoutTar is an OCI layout tar unpacked into a spool directory.
//
// Exporters order a layout tar differently: lkpkg writes index.json first
// and every manifest before the blobs it names; containerd's exporter
// (buildkit --output type=oci, docker buildx) sorts names, so every blob
// comes before index.json. Reading either in one pass, a blob is checked
// against its descriptor as soon as one is known (index.json and the
// manifests spooled so far), and never more than the budget is written
// for the blobs whose descriptor only a later entry could give.
type layoutTar struct {
	dir    string
	limits importLimits
	index  []byte
	roots  []v1.Descriptor // the named entries of index.json
	refs   []string
	blobs  map[v1.Hash]string // digest -> verified spooled file
	sizes  map[v1.Hash]int64
	// want holds the descriptor of every blob named so far by index.json
	// or by a spooled manifest it reaches.
	want    map[v1.Hash]wanted
	spooled int64 // bytes written to dir
	entries int
}

// wanted is a blob a descriptor names, and whether it must be an index or
// image manifest (as walk's manifest argument).
type wanted struct {
	d        v1.Descriptor
	manifest bool
}

func readLayoutTar(ctx context.Context, r io.Reader, spoolDir string, limits importLimits) (*layoutTar, error) {
	t := &layoutTar{
		dir: spoolDir, limits: limits,
		blobs: map[v1.Hash]string{}, sizes: map[v1.Hash]int64{}, want: map[v1.Hash]wanted{},
	}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		if t.entries++; t.entries > limits.entries {
			return nil, fmt.Errorf("tar has more than %d entries", limits.entries)
		}
		if err := t.add(tr, hdr); err != nil {
			return nil, err
		}
	}
	if t.index == nil {
		return nil, fmt.Errorf("tar has no %s: not an OCI image layout", indexFile)
	}
	return t, nil
}

// add reads one tar entry: index.json, a blob, or something to skip.
func (t *layoutTar) add(r io.Reader, hdr *tar.Header) error {
	if !hdr.FileInfo().Mode().IsRegular() {
		return nil
	}
	name := path.Clean(strings.TrimPrefix(hdr.Name, "/"))
	h, isBlob, err := blobEntry(name)
	switch {
	case err == nil && name != indexFile && !isBlob:
		return nil
	case err == nil && isSparse(hdr):
		// A tar reader expands a sparse entry to its declared size from
		// a few bytes of input; no exporter writes one.
		err = fmt.Errorf("sparse file (declaring %d bytes): an OCI layout tar holds no sparse files", hdr.Size)
	case err == nil && name == indexFile:
		return t.addIndex(r) // its errors name index.json
	case err == nil:
		err = t.addBlob(r, h, hdr.Size)
	}
	if err != nil {
		return fmt.Errorf("tar entry %q: %w", hdr.Name, err)
	}
	return nil
}

// blobEntry parses blobs/<algorithm>/<hex>; ok is false for other names.
func blobEntry(name string) (h v1.Hash, ok bool, err error) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 || parts[0] != "blobs" {
		return v1.Hash{}, false, nil
	}
	h, err = v1.NewHash(parts[1] + ":" + parts[2])
	if err != nil {
		return v1.Hash{}, false, err
	}
	if h.Algorithm != "sha256" {
		return v1.Hash{}, false, errors.New("unsupported digest algorithm")
	}
	return h, true, nil
}

func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// addIndex reads index.json and learns the descriptors of its named
// entries, checking the blobs already spooled against them.
func (t *layoutTar) addIndex(r io.Reader) error {
	if t.index != nil {
		// Which copy would count is up to the reader; refuse to guess.
		return fmt.Errorf("the tar holds %s twice", indexFile)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxIndexJSON+1))
	if err != nil {
		return fmt.Errorf("reading %s from tar: %w", indexFile, err)
	}
	if len(b) > maxIndexJSON {
		return fmt.Errorf("%s in tar is larger than %d bytes", indexFile, maxIndexJSON)
	}
	roots, refs, err := importRoots(b, t.limits.blobs)
	if err != nil {
		return err
	}
	t.index, t.roots, t.refs = b, roots, refs
	for _, d := range roots {
		if err := t.expect(d, true); err != nil {
			return err
		}
	}
	return nil
}

// addBlob spools one blob, refusing it before writing anything if its size
// is not what its descriptor says or would take the spool over budget.
func (t *layoutTar) addBlob(r io.Reader, h v1.Hash, size int64) error {
	if _, ok := t.blobs[h]; ok {
		return nil // a second copy: the first was verified
	}
	w, known := t.want[h]
	if known && w.d.Size != size {
		return sizeMismatch(h, size, w.d.Size)
	}
	if len(t.blobs) >= t.limits.blobs {
		return fmt.Errorf("tar has more than %d blobs", t.limits.blobs)
	}
	if size > t.limits.bytes-t.spooled {
		return fmt.Errorf("%w: with this %s blob, the tar's blobs pass the import limit of %s",
			ErrImportTooLarge, units.Human(size), units.Human(t.limits.bytes))
	}
	p, err := spool(t.dir, r, h, size)
	if err != nil {
		return err
	}
	t.spooled += size
	t.blobs[h], t.sizes[h] = p, size
	if known {
		return t.expectChildren(w)
	}
	return nil
}

func sizeMismatch(h v1.Hash, inTar, want int64) error {
	return fmt.Errorf("blob %s is %d bytes in tar, descriptor says %d", h, inTar, want)
}

// expect records that a descriptor names d and, if its blob is already
// spooled, checks its size and learns its children. Like walk, it leaves
// out non-distributable layers, which are never stored.
func (t *layoutTar) expect(d v1.Descriptor, manifest bool) error {
	if !manifest && !d.MediaType.IsDistributable() {
		return nil
	}
	if _, ok := t.want[d.Digest]; ok {
		return nil
	}
	// Every blob named must be in the tar or the cache, so a tar naming
	// more than it may hold is refused as early.
	if len(t.want) >= t.limits.blobs {
		return fmt.Errorf("tar names more than %d blobs", t.limits.blobs)
	}
	w := wanted{d: d, manifest: manifest}
	t.want[d.Digest] = w
	size, ok := t.sizes[d.Digest]
	if !ok {
		return nil
	}
	if size != d.Size {
		return sizeMismatch(d.Digest, size, d.Size)
	}
	return t.expectChildren(w)
}

// expectChildren learns the descriptors in a spooled index or manifest.
// Anything it cannot read as one is left to check, which reports it.
func (t *layoutTar) expectChildren(w wanted) error {
	mt := w.d.MediaType
	known := mt.IsIndex() || mt.IsImage()
	if (!known && !w.manifest) || w.d.Size > maxManifestSize {
		return nil
	}
	l, err := readLinks(t.blobs[w.d.Digest])
	if err != nil || (!known && !l.MediaType.IsIndex() && !l.MediaType.IsImage()) {
		return nil
	}
	for _, ch := range l.Manifests {
		if err := t.expect(ch, true); err != nil {
			return err
		}
	}
	if l.Config != nil {
		if err := t.expect(*l.Config, false); err != nil {
			return err
		}
	}
	for _, ch := range l.Layers {
		if err := t.expect(ch, false); err != nil {
			return err
		}
	}
	return nil
}
