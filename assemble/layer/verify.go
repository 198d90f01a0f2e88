package layer

import (
	"errors"
	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"hash"
	"io"
)

// verifier hashes a compressed layer stream and checks digest and size
// at EOF (see the package comment for why).
type verifier struct {
	rc   io.ReadCloser
	h    hash.Hash
	want v1.Hash
	size int64
	n    int64
	ok   bool
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.size {
		return n, wrapf(ErrLayerDigest, "more than %d bytes", v.size)
	}
	if err == io.EOF {
		got := v1.Hash{Algorithm: v.want.Algorithm, Hex: fmt.Sprintf("%x", v.h.Sum(nil))}
		if v.n != v.size || got != v.want {
			return n, wrapf(ErrLayerDigest, "got %s (%d bytes), want %s (%d bytes)", got, v.n, v.want, v.size)
		}
		v.ok = true
	}
	return n, err
}

func (v *verifier) Close() error { return v.rc.Close() }

// verifiedBlob presents a layer's compressed blob through a verifier to
// partial.CompressedToLayer, which does the decompression.
type verifiedBlob struct {
	l    v1.Layer
	last *verifier
}

func (b *verifiedBlob) Digest() (v1.Hash, error)            { return b.l.Digest() }
func (b *verifiedBlob) Size() (int64, error)                { return b.l.Size() }
func (b *verifiedBlob) MediaType() (types.MediaType, error) { return b.l.MediaType() }
func (b *verifiedBlob) Compressed() (io.ReadCloser, error) {
	d, err := b.l.Digest()
	if err != nil {
		return nil, err
	}
	size, err := b.l.Size()
	if err != nil {
		return nil, err
	}
	h, err := v1.Hasher(d.Algorithm)
	if err != nil {
		return nil, err
	}
	rc, err := b.l.Compressed()
	if err != nil {
		return nil, err
	}
	b.last = &verifier{rc: rc, h: h, want: d, size: size}
	return b.last, nil
}

// precheck reads l's whole compressed blob and checks its digest and
// size, so that no decompressor ever sees bytes that do not match: a hostile
// gzip or zstd stream is refused before it is parsed.
func precheck(l v1.Layer) error {
	b := &verifiedBlob{l: l}
	rc, err := b.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return err
	}
	if !b.last.ok {
		return wrapf(ErrLayerDigest, "stream ended without verification")
	}
	return nil
}

// openLayer returns the uncompressed stream of layer i (openVerified), after
// precheck the first time its digest is opened in this extraction: the
// two passes read each blob three times in all (the check, then once each),
// not twice per pass (a download each, for a remote image).
func (t *tree) openLayer(i int) (io.ReadCloser, *verifier, error) {
	ref := t.layers[i]
	if !t.prechecked[ref.digest] {
		if err := precheck(ref.l); err != nil {
			return nil, nil, err
		}
		t.prechecked[ref.digest] = true
	}
	return openVerified(ref.l)
}

// openVerified returns the uncompressed stream of l, read through a verifier of
// its compressed digest; precheck must have passed first (openLayer).
// The stream is verified again as it is read, on every open, so bytes that
// change after the check are caught at EOF.
func openVerified(l v1.Layer) (io.ReadCloser, *verifier, error) {
	b := &verifiedBlob{l: l}
	vl, err := partial.CompressedToLayer(b)
	if err != nil {
		return nil, nil, err
	}
	rc, err := vl.Uncompressed()
	if err != nil {
		if b.last != nil {
			b.last.Close()
		}
		return nil, nil, err
	}
	return rc, b.last, nil
}

// drain reads the rest of a layer (trailing tar padding, the end of the
// compressed stream) so that its digest is checked.
func drain(rc io.Reader, v *verifier) error {
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("reading layer: %w", err)
	}
	if v == nil {
		return errors.New("reading layer: no verifier")
	}
	if _, err := io.Copy(io.Discard, v); err != nil {
		return err
	}
	if !v.ok {
		return wrapf(ErrLayerDigest, "stream ended without verification")
	}
	return nil
}

// VerifyReader wraps rc, the compressed blob of a layer (closed on error), so that reading it
// to EOF fails with ErrLayerDigest unless exactly size bytes hashing to want
// were read. It is for callers that copy blobs on (such as an OCI layout
// written from a checked manifest) without flattening them.
func VerifyReader(rc io.ReadCloser, want v1.Hash, size int64) (io.ReadCloser, error) {
	h, err := v1.Hasher(want.Algorithm)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &verifier{rc: rc, h: h, want: want, size: size}, nil
}
