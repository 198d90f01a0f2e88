package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Entry is one ref-named entry of index.json.
type Entry struct {
	Ref        string
	Descriptor v1.Descriptor
}

// Resolve returns the index.json entry named ref. Names are compared after
// normalisation, so "alpine" finds "docker.io/library/alpine:latest".
func (c *Cache) Resolve(ref string) (desc v1.Descriptor, ok bool, err error) {
	im, err := c.readIndex()
	if err != nil {
		return v1.Descriptor{}, false, err
	}
	desc, ok = findRef(im.Manifests, ref)
	return desc, ok, nil
}

func (c *Cache) mustResolve(ref string) (v1.Descriptor, error) {
	desc, ok, err := c.Resolve(ref)
	if err != nil {
		return v1.Descriptor{}, err
	}
	if !ok {
		return v1.Descriptor{}, fmt.Errorf("cache: ref %s: %w", ref, ErrNotFound)
	}
	return desc, nil
}

// root is the whole layout as a read-only go-containerregistry index.
func (c *Cache) root() (v1.ImageIndex, error) {
	idx, err := layout.Path(c.dir).ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("cache: reading %s: %w", c.path(indexFile), err)
	}
	return idx, nil
}

// ImageIndex returns the index stored as ref.
func (c *Cache) ImageIndex(ref string) (v1.ImageIndex, error) {
	desc, err := c.mustResolve(ref)
	if err != nil {
		return nil, err
	}
	if !desc.MediaType.IsIndex() {
		return nil, fmt.Errorf("cache: ref %s is a %s, not an image index", ref, desc.MediaType)
	}
	root, err := c.root()
	if err != nil {
		return nil, err
	}
	idx, err := root.ImageIndex(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("cache: ref %s (%s): %w", ref, desc.Digest, err)
	}
	return idx, nil
}

// Image returns the image for platform stored under ref: the matching child
// if ref is an index, or ref itself if it is an image whose platform fits.
func (c *Cache) Image(ref string, platform v1.Platform) (v1.Image, error) {
	desc, err := c.mustResolve(ref)
	if err != nil {
		return nil, err
	}
	root, err := c.root()
	if err != nil {
		return nil, err
	}
	switch {
	case desc.MediaType.IsImage():
		if desc.Platform != nil && !platformMatches(*desc.Platform, platform) {
			return nil, fmt.Errorf("cache: ref %s is for %s, not %s: %w", ref, desc.Platform, &platform, ErrNotFound)
		}
		img, err := root.Image(desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("cache: ref %s (%s): %w", ref, desc.Digest, err)
		}
		return img, nil
	case desc.MediaType.IsIndex():
		idx, err := root.ImageIndex(desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("cache: ref %s (%s): %w", ref, desc.Digest, err)
		}
		img, err := imageForPlatform(idx, platform)
		if err != nil {
			return nil, fmt.Errorf("cache: ref %s: %w", ref, err)
		}
		return img, nil
	default:
		return nil, fmt.Errorf("cache: ref %s has unsupported media type %s", ref, desc.MediaType)
	}
}

func imageForPlatform(idx v1.ImageIndex, platform v1.Platform) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		if d.Platform != nil && d.MediaType.IsImage() && platformMatches(*d.Platform, platform) {
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", d.Digest, err)
			}
			return img, nil
		}
	}
	return nil, fmt.Errorf("no image for platform %s: %w", &platform, ErrNotFound)
}

// platformMatches compares os/arch, and variant only when one is wanted,
// so "linux/arm64" finds an image recorded as "linux/arm64/v8".
func platformMatches(have, want v1.Platform) bool {
	return have.OS == want.OS && have.Architecture == want.Architecture &&
		(want.Variant == "" || have.Variant == want.Variant)
}

// IndexByDigest returns the stored index with digest h, whether it is an
// index.json entry or nested in one.
func (c *Cache) IndexByDigest(h v1.Hash) (v1.ImageIndex, error) {
	root, err := c.root()
	if err != nil {
		return nil, err
	}
	idx, ok, err := findIndex(root, h)
	if err != nil {
		return nil, fmt.Errorf("cache: index %s: %w", h, err)
	}
	if !ok {
		return nil, fmt.Errorf("cache: index %s: %w", h, ErrNotFound)
	}
	return idx, nil
}

func findIndex(parent v1.ImageIndex, h v1.Hash) (v1.ImageIndex, bool, error) {
	im, err := parent.IndexManifest()
	if err != nil {
		return nil, false, err
	}
	for _, d := range im.Manifests {
		if !d.MediaType.IsIndex() {
			continue
		}
		child, err := parent.ImageIndex(d.Digest)
		if err != nil {
			return nil, false, err
		}
		if d.Digest == h {
			return child, true, nil
		}
		if idx, ok, err := findIndex(child, h); ok || err != nil {
			return idx, ok, err
		}
	}
	return nil, false, nil
}

// List returns the ref-named entries of index.json sorted by ref.
func (c *Cache) List() ([]Entry, error) {
	im, err := c.readIndex()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, d := range im.Manifests {
		if r := refOf(d); r != "" {
			out = append(out, Entry{Ref: r, Descriptor: d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

// ImageByDigest returns the image for platform behind digest h: h may name
// an index (stored or nested) or a single image manifest whose blob is here.
func (c *Cache) ImageByDigest(h v1.Hash, platform v1.Platform) (v1.Image, error) {
	if idx, err := c.IndexByDigest(h); err == nil {
		img, err := imageForPlatform(idx, platform)
		if err != nil {
			return nil, fmt.Errorf("cache: index %s: %w", h, err)
		}
		return img, nil
	}
	if _, err := os.Stat(filepath.Join(c.blobDir(), h.Hex)); err != nil {
		return nil, fmt.Errorf("cache: %s: %w", h, ErrNotFound)
	}
	img, err := layout.Path(c.dir).Image(h)
	if err != nil {
		return nil, fmt.Errorf("cache: image %s: %w", h, err)
	}
	return img, nil
}
