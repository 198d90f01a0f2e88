package assemble

// Digest-checked images and indexes: what every image a build or a volume
// uses goes through, so that no manifest, config or (where asked) layer is
// used that does not match the digest it was pinned by. A layout image
// (the local cache) would otherwise read its blob files again, unchecked.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lkpkg/lkpkg/assemble/layer"
)

// sha256Of is the sha256 digest of b.
func sha256Of(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// checkIndex checks idx's manifest against h.
func checkIndex(idx v1.ImageIndex, h v1.Hash) error {
	raw, err := idx.RawManifest()
	if err != nil {
		return err
	}
	if got := sha256Of(raw); got != h {
		return fmt.Errorf("index %s: content hashes to %s", h, got)
	}
	return nil
}

// checkImage checks img's manifest against d (its digest, and its size
// unless d.Size is negative) and its config against the manifest, and
// returns an image that serves the checked bytes. With verifyLayers, each
// layer is also checked against the manifest as its compressed blob is read
// (for blobs copied on as they are; layer.WriteTar checks the layers it
// flattens itself).
func checkImage(img v1.Image, d v1.Descriptor, verifyLayers bool) (*checkedImage, error) {
	raw, err := img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", d.Digest, err)
	}
	got := sha256Of(raw)
	if d.Size < 0 && got != d.Digest {
		return nil, fmt.Errorf("image %s: manifest hashes to %s", d.Digest, got)
	}
	if d.Size >= 0 && (got != d.Digest || int64(len(raw)) != d.Size) {
		return nil, fmt.Errorf("image %s: manifest hashes to %s (%d bytes), want %s (%d bytes)", d.Digest, got, len(raw), d.Digest, d.Size)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", d.Digest, err)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", d.Digest, err)
	}
	if got := sha256Of(cfg); got != m.Config.Digest {
		return nil, fmt.Errorf("image %s: config %s hashes to %s", d.Digest, m.Config.Digest, got)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cfg))
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", d.Digest, err)
	}
	mt := m.MediaType
	if mt == "" {
		mt = d.MediaType
	}
	return &checkedImage{
		base: img, digest: d.Digest, mt: mt, manifest: raw, m: m, config: cfg, cf: cf,
		platform:     v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant},
		verifyLayers: verifyLayers,
	}, nil
}

// checkedImage is a checked image (see checkImage).
type checkedImage struct {
	base             v1.Image
	digest           v1.Hash
	mt               types.MediaType
	manifest, config []byte
	m                *v1.Manifest
	cf               *v1.ConfigFile
	platform         v1.Platform
	verifyLayers     bool
}

var _ v1.Image = (*checkedImage)(nil)

func (v *checkedImage) MediaType() (types.MediaType, error) { return v.mt, nil }
func (v *checkedImage) Size() (int64, error)                { return int64(len(v.manifest)), nil }
func (v *checkedImage) Digest() (v1.Hash, error)            { return v.digest, nil }
func (v *checkedImage) RawManifest() ([]byte, error)        { return v.manifest, nil }
func (v *checkedImage) Manifest() (*v1.Manifest, error)     { return v.m.DeepCopy(), nil }
func (v *checkedImage) ConfigName() (v1.Hash, error)        { return v.m.Config.Digest, nil }
func (v *checkedImage) RawConfigFile() ([]byte, error)      { return v.config, nil }
func (v *checkedImage) ConfigFile() (*v1.ConfigFile, error) { return v.cf.DeepCopy(), nil }

// Layers lists the layers the checked manifest names (not whatever the
// manifest file says now).
func (v *checkedImage) Layers() ([]v1.Layer, error) {
	out := make([]v1.Layer, 0, len(v.m.Layers))
	for _, d := range v.m.Layers {
		l, err := v.base.LayerByDigest(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		if v.verifyLayers {
			l = &checkedLayer{Layer: l, d: d}
		}
		out = append(out, l)
	}
	return out, nil
}

func (v *checkedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	if !v.verifyLayers {
		return v.base.LayerByDigest(h)
	}
	ls, err := v.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if l.(*checkedLayer).d.Digest == h {
			return l, nil
		}
	}
	return nil, fmt.Errorf("image %s: no layer %s", v.digest, h)
}

func (v *checkedImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	for i, d := range v.cf.RootFS.DiffIDs {
		if d == h && i < len(v.m.Layers) {
			return v.LayerByDigest(v.m.Layers[i].Digest)
		}
	}
	return nil, fmt.Errorf("image %s: no layer with diff id %s", v.digest, h)
}

// checkedLayer checks a layer's compressed blob against its manifest
// descriptor (digest and size) as it is read, failing at EOF on a mismatch
// (see layer.VerifyReader).
type checkedLayer struct {
	v1.Layer
	d v1.Descriptor
}

func (l *checkedLayer) Digest() (v1.Hash, error)            { return l.d.Digest, nil }
func (l *checkedLayer) Size() (int64, error)                { return l.d.Size, nil }
func (l *checkedLayer) MediaType() (types.MediaType, error) { return l.d.MediaType, nil }
func (l *checkedLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	return layer.VerifyReader(rc, l.d.Digest, l.d.Size)
}
