package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxManifestSize bounds the index and manifest blobs an import reads, and
// the blobs read to learn the media type of a manifest whose descriptor
// does not give a known one (4 MiB, the limit registries commonly place on
// manifests).
const maxManifestSize = 4 << 20

// links is the part of an index or image manifest that names other blobs.
type links struct {
	MediaType types.MediaType `json:"mediaType"`
	Manifests []v1.Descriptor `json:"manifests"`
	Config    *v1.Descriptor  `json:"config"`
	Layers    []v1.Descriptor `json:"layers"`
}

// walker visits every blob reachable from some roots, each digest once.
// Subjects are not followed: a referrer does not own its subject.
//
// Roots (index.json entries) and the children of an index must be image
// indexes or image manifests. When their descriptor gives no known media
// type the blob's own mediaType field decides; anything else is an error,
// so a manifest can never be mistaken for a leaf whose children then go
// unchecked.
type walker struct {
	ctx context.Context
	// read returns the bytes of a manifest or index.
	read func(v1.Hash) ([]byte, error)
	// visit is called for a blob before its children are read, so a
	// verifying visit catches corruption before it is parsed.
	visit func(v1.Descriptor) error
	seen  map[v1.Hash]bool
	// manifests records the media type of every manifest or index walked.
	manifests map[v1.Hash]types.MediaType
}

func newWalker(ctx context.Context, read func(v1.Hash) ([]byte, error), visit func(v1.Descriptor) error) *walker {
	return &walker{ctx: ctx, read: read, visit: visit, seen: map[v1.Hash]bool{}, manifests: map[v1.Hash]types.MediaType{}}
}

// walkRoot walks an index.json entry and returns it with MediaType set to
// the index or image manifest type it was walked as.
func (w *walker) walkRoot(d v1.Descriptor) (v1.Descriptor, error) {
	mt, err := w.walk(d, true)
	if err != nil {
		return v1.Descriptor{}, err
	}
	d.MediaType = mt
	return d, nil
}

// walk visits d and, if it is an index or image manifest, its children.
// manifest says d must be one. It returns the media type d was walked as.
func (w *walker) walk(d v1.Descriptor, manifest bool) (types.MediaType, error) {
	if mt, ok := w.manifests[d.Digest]; ok {
		return mt, nil
	}
	if !manifest && w.seen[d.Digest] {
		return d.MediaType, nil
	}
	// Non-distributable layers are never stored locally.
	if !manifest && !d.MediaType.IsDistributable() {
		return d.MediaType, nil
	}
	if err := w.ctx.Err(); err != nil {
		return "", err
	}
	if !w.seen[d.Digest] {
		w.seen[d.Digest] = true
		if err := w.visit(d); err != nil {
			return "", err
		}
	}
	mt := d.MediaType
	known := mt.IsIndex() || mt.IsImage()
	if !known && !manifest {
		return mt, nil // a config, layer or other leaf
	}
	if !known && d.Size > maxManifestSize {
		return "", fmt.Errorf("blob %s has media type %q and is too large (%d bytes) to be an index or image manifest", d.Digest, mt, d.Size)
	}
	b, err := w.read(d.Digest)
	if err != nil {
		return "", err
	}
	var l links
	if err := json.Unmarshal(b, &l); err != nil {
		if !known {
			return "", fmt.Errorf("blob %s has media type %q and is not an index or image manifest: %w", d.Digest, mt, err)
		}
		return "", fmt.Errorf("parsing %s %s: %w", mt, d.Digest, err)
	}
	switch {
	case known:
		if l.MediaType != "" && l.MediaType != mt {
			return "", fmt.Errorf("blob %s: descriptor says %s but the blob says %s", d.Digest, mt, l.MediaType)
		}
	case l.MediaType.IsIndex() || l.MediaType.IsImage():
		mt = l.MediaType
	default:
		return "", fmt.Errorf("blob %s is not a known index or image manifest (descriptor media type %q, blob media type %q)", d.Digest, d.MediaType, l.MediaType)
	}
	w.manifests[d.Digest] = mt
	for _, ch := range l.Manifests {
		if _, err := w.walk(ch, true); err != nil {
			return "", err
		}
	}
	if l.Config != nil {
		if _, err := w.walk(*l.Config, false); err != nil {
			return "", err
		}
	}
	for _, ch := range l.Layers {
		if _, err := w.walk(ch, false); err != nil {
			return "", err
		}
	}
	return mt, nil
}

// reachable lists, in walk order, the blobs reachable from roots.
func (c *Cache) reachable(ctx context.Context, roots []v1.Descriptor) ([]v1.Descriptor, error) {
	var out []v1.Descriptor
	w := newWalker(ctx, c.readBlob, func(d v1.Descriptor) error {
		out = append(out, d)
		return nil
	})
	for _, r := range roots {
		if _, err := w.walkRoot(r); err != nil {
			return nil, fmt.Errorf("cache: walking %s (%s): %w", refOf(r), r.Digest, err)
		}
	}
	return out, nil
}

// readLinks parses the spooled index or manifest at p.
func readLinks(p string) (links, error) {
	var l links
	b, err := os.ReadFile(p)
	if err == nil {
		err = json.Unmarshal(b, &l)
	}
	return l, err
}
