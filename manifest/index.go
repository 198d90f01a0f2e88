package manifest

import (
	"fmt"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// PlatformImage is one architecture's image.
type PlatformImage struct {
	Platform v1.Platform
	Image    v1.Image
}

// Index builds an OCI index over imgs, sorted by platform. Two images for
// the same platform are an error.
func Index(imgs []PlatformImage) (v1.ImageIndex, error) {
	sorted := append([]PlatformImage(nil), imgs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Platform.String() < sorted[j].Platform.String() })
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	adds := make([]mutate.IndexAddendum, 0, len(sorted))
	for i, pi := range sorted {
		if i > 0 && sorted[i-1].Platform.String() == pi.Platform.String() {
			return nil, fmt.Errorf("two images for platform %s", pi.Platform)
		}
		desc, err := partial.Descriptor(pi.Image)
		if err != nil {
			return nil, fmt.Errorf("platform %s: %w", pi.Platform, err)
		}
		p := pi.Platform
		adds = append(adds, mutate.IndexAddendum{Add: pi.Image, Descriptor: v1.Descriptor{
			MediaType: desc.MediaType, Size: desc.Size, Digest: desc.Digest, Platform: &p,
		}})
	}
	return mutate.AppendManifests(idx, adds...), nil
}

// Images lists an index's per-platform images. Children without a platform
// (attestations, nested indexes) are skipped.
func Images(idx v1.ImageIndex) ([]PlatformImage, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []PlatformImage
	for _, d := range im.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" || !d.MediaType.IsImage() {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("platform %s (%s): %w", d.Platform, d.Digest, err)
		}
		out = append(out, PlatformImage{Platform: *d.Platform, Image: img})
	}
	return out, nil
}

// Merge returns an index holding imgs plus every platform of base that imgs
// do not replace: the new image wins per platform.
func Merge(base v1.ImageIndex, imgs []PlatformImage) (v1.ImageIndex, error) {
	if base == nil {
		return Index(imgs)
	}
	old, err := Images(base)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, pi := range imgs {
		have[pi.Platform.String()] = true
	}
	all := append([]PlatformImage(nil), imgs...)
	for _, pi := range old {
		if !have[pi.Platform.String()] {
			all = append(all, pi)
		}
	}
	return Index(all)
}

// Platforms lists the platforms an index holds, as os/arch[/variant].
func Platforms(idx v1.ImageIndex) ([]string, error) {
	imgs, err := Images(idx)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(imgs))
	for i, pi := range imgs {
		out[i] = pi.Platform.String()
	}
	sort.Strings(out)
	return out, nil
}
