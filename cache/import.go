package cache

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// maxIndexJSON bounds how much of a tar's index.json we hold in memory.
const maxIndexJSON = 64 << 20

// Import adds every ref-named index or manifest of an OCI layout tar (from
// Export "oci", buildctl --output type=oci, docker buildx) and returns the
// refs. Every blob is verified before anything is stored, and index.json is
// only touched once the whole tar has been checked.
func (c *Cache) Import(ctx context.Context, r io.Reader) ([]string, error) {
	spoolDir, err := os.MkdirTemp(c.tmpDir(), "import-")
	if err != nil {
		return nil, fmt.Errorf("cache: import: %w", err)
	}
	defer os.RemoveAll(spoolDir)

	// Spooling needs no lock: tmp/ is private to us and GC never looks there.
	t, err := readLayoutTar(ctx, r, spoolDir)
	if err != nil {
		return nil, fmt.Errorf("cache: import: %w", err)
	}
	roots, refs, err := importRoots(t.index)
	if err != nil {
		return nil, fmt.Errorf("cache: import: %w", err)
	}

	unlock, err := c.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()

	needed, err := t.check(ctx, c, roots)
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
	if err := c.replaceEntries(roots); err != nil {
		return nil, fmt.Errorf("cache: import: %w", err)
	}
	return refs, nil
}

// layoutTar is an OCI layout tar unpacked into a spool directory.
type layoutTar struct {
	index []byte
	blobs map[v1.Hash]string // digest -> verified spooled file
	sizes map[v1.Hash]int64
}

func readLayoutTar(ctx context.Context, r io.Reader, spoolDir string) (*layoutTar, error) {
	t := &layoutTar{blobs: map[v1.Hash]string{}, sizes: map[v1.Hash]int64{}}
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
		if !hdr.FileInfo().Mode().IsRegular() {
			continue
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "/"))
		switch {
		case name == indexFile:
			b, err := io.ReadAll(io.LimitReader(tr, maxIndexJSON+1))
			if err != nil {
				return nil, fmt.Errorf("reading %s from tar: %w", indexFile, err)
			}
			if len(b) > maxIndexJSON {
				return nil, fmt.Errorf("%s in tar is larger than %d bytes", indexFile, maxIndexJSON)
			}
			t.index = b
		case strings.HasPrefix(name, "blobs/"):
			parts := strings.Split(name, "/")
			if len(parts) != 3 {
				continue
			}
			h, err := v1.NewHash(parts[1] + ":" + parts[2])
			if err != nil {
				return nil, fmt.Errorf("tar entry %s: %w", hdr.Name, err)
			}
			if h.Algorithm != "sha256" {
				return nil, fmt.Errorf("tar entry %s: unsupported digest algorithm", hdr.Name)
			}
			p, err := spool(spoolDir, tr, h, hdr.Size)
			if err != nil {
				return nil, fmt.Errorf("tar entry %s: %w", hdr.Name, err)
			}
			t.blobs[h] = p
			t.sizes[h] = hdr.Size
		}
	}
	if t.index == nil {
		return nil, fmt.Errorf("tar has no %s: not an OCI image layout", indexFile)
	}
	return t, nil
}

// importRoots picks the named entries of a tar's index.json, naming each by
// its full image name when the exporter recorded one (buildkit writes just
// the tag into ref.name).
func importRoots(index []byte) ([]v1.Descriptor, []string, error) {
	im, err := parseIndex(index)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid %s in tar: %w", indexFile, err)
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
// neither in the tar (with the right size) nor already in the cache.
func (t *layoutTar) check(ctx context.Context, c *Cache, roots []v1.Descriptor) ([]v1.Hash, error) {
	read := func(h v1.Hash) ([]byte, error) {
		if p, ok := t.blobs[h]; ok {
			return os.ReadFile(p)
		}
		return c.readBlob(h)
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
	for _, d := range roots {
		if err := w.walk(d); err != nil {
			return nil, fmt.Errorf("%s (%s): %w", refOf(d), d.Digest, err)
		}
	}
	return needed, nil
}
