package cache

import (
	"context"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// links is the part of an index or image manifest that names other blobs.
type links struct {
	Manifests []v1.Descriptor `json:"manifests"`
	Config    *v1.Descriptor  `json:"config"`
	Layers    []v1.Descriptor `json:"layers"`
}

// walker visits every blob reachable from some roots, each digest once.
// Subjects are not followed: a referrer does not own its subject.
type walker struct {
	ctx context.Context
	// read returns the bytes of a manifest or index.
	read func(v1.Hash) ([]byte, error)
	// visit is called for a blob before its children are read, so a
	// verifying visit catches corruption before it is parsed.
	visit func(v1.Descriptor) error
	seen  map[v1.Hash]bool
}

func newWalker(ctx context.Context, read func(v1.Hash) ([]byte, error), visit func(v1.Descriptor) error) *walker {
	return &walker{ctx: ctx, read: read, visit: visit, seen: map[v1.Hash]bool{}}
}

func (w *walker) walk(d v1.Descriptor) error {
	if w.seen[d.Digest] {
		return nil
	}
	// Non-distributable layers are never stored locally.
	if !d.MediaType.IsDistributable() {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	w.seen[d.Digest] = true
	if err := w.visit(d); err != nil {
		return err
	}
	if !d.MediaType.IsIndex() && !d.MediaType.IsImage() {
		return nil
	}
	b, err := w.read(d.Digest)
	if err != nil {
		return err
	}
	var l links
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("parsing %s %s: %w", d.MediaType, d.Digest, err)
	}
	for _, ch := range l.Manifests {
		if err := w.walk(ch); err != nil {
			return err
		}
	}
	if l.Config != nil {
		if err := w.walk(*l.Config); err != nil {
			return err
		}
	}
	for _, ch := range l.Layers {
		if err := w.walk(ch); err != nil {
			return err
		}
	}
	return nil
}

// reachable lists, in walk order, the blobs reachable from roots.
func (c *Cache) reachable(ctx context.Context, roots []v1.Descriptor) ([]v1.Descriptor, error) {
	var out []v1.Descriptor
	w := newWalker(ctx, c.readBlob, func(d v1.Descriptor) error {
		out = append(out, d)
		return nil
	})
	for _, r := range roots {
		if err := w.walk(r); err != nil {
			return nil, fmt.Errorf("cache: walking %s (%s): %w", refOf(r), r.Digest, err)
		}
	}
	return out, nil
}
