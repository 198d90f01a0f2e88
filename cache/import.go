package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ImportOptions control Import.
type ImportOptions struct {
	// ReplaceRefs replaces refs that already exist in the cache with
	// other content (cache import --force). Without it such an import is
	// refused.
	ReplaceRefs bool
	// MaxBytes bounds the total size of the blobs spooled from the tar
	// (0: DefaultImportMaxBytes). The entry that would pass it is refused
	// with ErrImportTooLarge before any of it is written.
	MaxBytes int64
	// maxEntries and maxBlobs bound the tar's entries and the blobs it
	// holds or names (0: the defaults); tests lower them.
	maxEntries, maxBlobs int
}

// DefaultImportMaxBytes is the default ImportOptions.MaxBytes, 16 GiB: far
// more than any image lkpkg builds, far less than a disk.
const DefaultImportMaxBytes = 16 << 30

// Bounds on the work of one import whatever its size: far above what an
// export of a whole cache holds.
const (
	defaultMaxImportEntries = 1 << 17
	defaultMaxImportBlobs   = 1 << 16
)

// importLimits are ImportOptions' limits with defaults applied.
type importLimits struct {
	bytes          int64
	entries, blobs int
}

func (o ImportOptions) limits() importLimits {
	l := importLimits{bytes: o.MaxBytes, entries: o.maxEntries, blobs: o.maxBlobs}
	if l.bytes <= 0 {
		l.bytes = DefaultImportMaxBytes
	}
	if l.entries <= 0 {
		l.entries = defaultMaxImportEntries
	}
	if l.blobs <= 0 {
		l.blobs = defaultMaxImportBlobs
	}
	return l
}

// ErrRefExists is wrapped by the error of an Import that would replace refs
// already in the cache with different content.
var ErrRefExists = errors.New("refs already in the cache with other content")

// ErrImportTooLarge is wrapped by the error of an Import whose blobs pass
// ImportOptions.MaxBytes.
var ErrImportTooLarge = errors.New("tar too large")

// Import adds every ref-named index or manifest of an OCI layout tar (from
// Export "oci", buildctl --output type=oci, docker buildx) and returns the
// refs. Every blob is verified before anything is stored, and index.json is
// only touched once the whole tar has been checked. A ref the cache already
// holds with the same digest is left as it is; one it holds with another
// digest makes Import fail, naming both digests and writing nothing, unless
// opts.ReplaceRefs is set. The work is bounded whatever the tar holds:
// sparse entries are refused, a blob must match its descriptor's size
// before it is spooled whenever the descriptor is already known, and opts
// bound the bytes spooled, the entries and the blobs.
func (c *Cache) Import(ctx context.Context, r io.Reader, opts ImportOptions) ([]string, error) {
	// A locked temp dir: Prune leaves it alone however long spooling takes.
	spoolDir, release, err := c.TempDir("import-")
	if err != nil {
		return nil, fmt.Errorf("cache: import: %w", err)
	}
	defer release()

	// Spooling needs no cache lock: the spool dir is private to us and
	// neither GC nor Prune touches it.
	t, err := readLayoutTar(ctx, r, spoolDir, opts.limits())
	if err != nil {
		return nil, fmt.Errorf("cache: import: %w", err)
	}
	roots, refs := t.roots, t.refs

	unlock, err := c.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()

	needed, roots, err := t.check(ctx, c, roots)
	if err != nil {
		return nil, fmt.Errorf("cache: import: %w", err)
	}
	im, err := c.readIndex()
	if err != nil {
		return nil, err
	}
	add, err := newEntries(im.Manifests, roots, opts.ReplaceRefs)
	if err != nil {
		return nil, fmt.Errorf("cache: import: %w", err)
	}
	for _, h := range needed {
		if c.hasBlob(h) {
			continue
		}
		if err := c.installBlob(t.blobs[h], h); err != nil {
			return nil, err
		}
	}
	if err := syncDir(c.blobDir()); err != nil {
		return nil, err
	}
	var entries []v1.Descriptor
	for _, d := range roots {
		if add[normRef(refOf(d))] {
			entries = append(entries, d)
		}
	}
	if len(entries) == 0 {
		return refs, nil
	}
	if err := c.replaceEntries(entries); err != nil {
		return nil, fmt.Errorf("cache: import: %w", err)
	}
	return refs, nil
}

// newEntries compares roots with the current entries. Roots the cache
// already holds with the same digest need no change and are left out of the
// returned set of normalised refs to record; a root held with another
// digest is a conflict unless replace is set.
func newEntries(current, roots []v1.Descriptor, replace bool) (map[string]bool, error) {
	add := map[string]bool{}
	var conflicts []string
	for _, d := range roots {
		ref := refOf(d)
		if have, ok := findRef(current, ref); ok {
			if have.Digest == d.Digest {
				continue
			}
			if !replace {
				conflicts = append(conflicts, fmt.Sprintf("%s: cache has %s, tar has %s", ref, have.Digest, d.Digest))
				continue
			}
		}
		add[normRef(ref)] = true
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("%w, not replaced: %s", ErrRefExists, strings.Join(conflicts, "; "))
	}
	return add, nil
}

// importRoots picks the named entries of a tar's index.json, naming each by
// its full image name when the exporter recorded one (buildkit writes just
// the tag into ref.name). Every name must be a valid image reference, and
// there may be at most maxEntries entries.
func importRoots(index []byte, maxEntries int) ([]v1.Descriptor, []string, error) {
	im, err := parseIndex(index)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid %s in tar: %w", indexFile, err)
	}
	if len(im.Manifests) > maxEntries {
		return nil, nil, fmt.Errorf("%s in tar has %d entries, more than %d", indexFile, len(im.Manifests), maxEntries)
	}
	byName := map[string]v1.Descriptor{}
	for _, d := range im.Manifests {
		ref := d.Annotations[imageNameAnnotation]
		if ref == "" {
			ref = refOf(d)
		}
		if ref == "" {
			continue
		}
		if err := checkRefName(ref); err != nil {
			return nil, nil, fmt.Errorf("%s in tar: %w", indexFile, err)
		}
		d.Annotations = maps.Clone(d.Annotations)
		d.Annotations[refNameAnnotation] = ref
		byName[normRef(ref)] = d // a later duplicate wins, as it would in the tar's index
	}
	if len(byName) == 0 {
		return nil, nil, fmt.Errorf("%s in tar names no images (no %s annotations)", indexFile, refNameAnnotation)
	}
	var roots []v1.Descriptor
	var refs []string
	for _, d := range byName {
		roots = append(roots, d)
		refs = append(refs, refOf(d))
	}
	sortEntries(roots)
	sort.Strings(refs)
	return roots, refs, nil
}

// check walks roots and returns the digests they need, failing if one is
// neither in the tar (with the right size) nor already in the cache. It
// also returns roots with the media type each was walked as.
func (t *layoutTar) check(ctx context.Context, c *Cache, roots []v1.Descriptor) ([]v1.Hash, []v1.Descriptor, error) {
	// What is read is an index or manifest: bounded like one, as the
	// walk reads it whole.
	read := func(h v1.Hash) ([]byte, error) {
		p, ok := t.blobs[h]
		if !ok {
			p = c.blobPath(h)
		}
		return readManifestFile(p, h)
	}
	var needed []v1.Hash
	visit := func(d v1.Descriptor) error {
		if size, ok := t.sizes[d.Digest]; ok {
			if size != d.Size {
				return fmt.Errorf("blob %s is %d bytes in tar, descriptor says %d", d.Digest, size, d.Size)
			}
			needed = append(needed, d.Digest)
			return nil
		}
		if !c.hasBlob(d.Digest) {
			return fmt.Errorf("blob %s is missing from tar", d.Digest)
		}
		return nil
	}
	w := newWalker(ctx, read, visit)
	walked := make([]v1.Descriptor, 0, len(roots))
	for _, d := range roots {
		d2, err := w.walkRoot(d)
		if err != nil {
			return nil, nil, fmt.Errorf("%s (%s): %w", refOf(d), d.Digest, err)
		}
		walked = append(walked, d2)
	}
	return needed, walked, nil
}
