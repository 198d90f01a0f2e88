package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// WriteIndex stores idx and every blob it references, then records it in
// index.json as ref, with one "<ref>-<arch><variant>" entry per platform
// child. Entries already named so are replaced.
func (c *Cache) WriteIndex(ctx context.Context, ref string, idx v1.ImageIndex) (v1.Descriptor, error) {
	return c.UpdateIndex(ctx, ref, func(v1.ImageIndex) (v1.ImageIndex, error) { return idx, nil })
}

// UpdateIndex replaces the index stored as ref by update(old), where old is
// the current one (nil if none), all under the lock: two processes adding
// different platforms to one ref cannot lose each other's work.
func (c *Cache) UpdateIndex(ctx context.Context, ref string, update func(old v1.ImageIndex) (v1.ImageIndex, error)) (v1.Descriptor, error) {
	if ref == "" {
		return v1.Descriptor{}, errors.New("cache: WriteIndex: empty ref")
	}
	// The lock also covers blob writes: otherwise a concurrent GC could
	// delete them before index.json references them.
	unlock, err := c.Lock(ctx)
	if err != nil {
		return v1.Descriptor{}, err
	}
	defer unlock()

	var old v1.ImageIndex
	if d, ok, err := c.Resolve(ref); err != nil {
		return v1.Descriptor{}, err
	} else if ok && d.MediaType.IsIndex() {
		if old, err = c.ImageIndex(ref); err != nil {
			return v1.Descriptor{}, err
		}
	}
	idx, err := update(old)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("cache: updating %s: %w", ref, err)
	}
	desc, im, err := indexDescriptor(idx)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("cache: writing %s: %w", ref, err)
	}
	desc.Annotations = map[string]string{refNameAnnotation: ref}

	bw := &blobWriter{c: c, ctx: ctx, done: map[v1.Hash]bool{}}
	if err := bw.index(idx, desc); err != nil {
		return v1.Descriptor{}, fmt.Errorf("cache: writing %s: %w", ref, err)
	}
	if err := syncDir(c.blobDir()); err != nil {
		return v1.Descriptor{}, err
	}
	entries := append([]v1.Descriptor{desc}, childEntries(ref, im)...)
	if err := c.replaceEntries(entries); err != nil {
		return v1.Descriptor{}, fmt.Errorf("cache: recording %s: %w", ref, err)
	}
	return desc, nil
}

func indexDescriptor(idx v1.ImageIndex) (v1.Descriptor, *v1.IndexManifest, error) {
	mt, err := idx.MediaType()
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	if !mt.IsIndex() {
		return v1.Descriptor{}, nil, fmt.Errorf("media type %s is not an image index", mt)
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	return v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: h}, im, nil
}

// blobWriter copies the blobs of an in-memory image graph into the cache,
// verifying each against the descriptor its parent gives for it.
type blobWriter struct {
	c    *Cache
	ctx  context.Context
	done map[v1.Hash]bool
}

func (w *blobWriter) put(d v1.Descriptor, open func() (io.ReadCloser, error)) error {
	if w.done[d.Digest] {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if err := w.c.putBlob(d.Digest, d.Size, open); err != nil {
		return err
	}
	w.done[d.Digest] = true
	return nil
}

func (w *blobWriter) putBytes(d v1.Descriptor, b []byte) error {
	return w.put(d, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

// index writes children first and the index itself last. Correctness does
// not depend on the order (index.json is written after everything), but it
// keeps a half-written graph from looking complete.
func (w *blobWriter) index(idx v1.ImageIndex, d v1.Descriptor) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("index %s: %w", d.Digest, err)
	}
	for _, ch := range im.Manifests {
		switch {
		case ch.MediaType.IsIndex():
			err = putChild(d, ch, idx.ImageIndex, w.index)
		case ch.MediaType.IsImage():
			err = putChild(d, ch, idx.Image, w.image)
		default:
			err = fmt.Errorf("index %s: child %s has unsupported media type %q", d.Digest, ch.Digest, ch.MediaType)
		}
		if err != nil {
			return err
		}
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return fmt.Errorf("index %s: %w", d.Digest, err)
	}
	return w.putBytes(d, raw)
}

// putChild loads child ch of the index described by parent with get (an
// index or an image, by ch's media type) and writes it with put.
func putChild[T any](parent, ch v1.Descriptor, get func(v1.Hash) (T, error), put func(T, v1.Descriptor) error) error {
	x, err := get(ch.Digest)
	if err != nil {
		return fmt.Errorf("index %s: child %s: %w", parent.Digest, ch.Digest, err)
	}
	return put(x, ch)
}

func (w *blobWriter) image(img v1.Image, d v1.Descriptor) error {
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("image %s: %w", d.Digest, err)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("image %s: config: %w", d.Digest, err)
	}
	if err := w.putBytes(m.Config, cfg); err != nil {
		return fmt.Errorf("image %s: config: %w", d.Digest, err)
	}
	for _, ld := range m.Layers {
		if !ld.MediaType.IsDistributable() {
			continue
		}
		err := w.put(ld, func() (io.ReadCloser, error) {
			l, err := img.LayerByDigest(ld.Digest)
			if err != nil {
				return nil, err
			}
			return l.Compressed()
		})
		if err != nil {
			return fmt.Errorf("image %s: layer: %w", d.Digest, err)
		}
	}
	raw, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("image %s: %w", d.Digest, err)
	}
	return w.putBytes(d, raw)
}
