package manifest

// Merging a pushed index with what the tag already holds, so that
// platforms pushed from another host are kept.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

const (
	// The buildkit annotations that mark an attestation manifest and name
	// the image it describes.
	annotationRefDigest = "vnd.docker.reference.digest"
	annotationRefType   = "vnd.docker.reference.type"
)

// isAttestation says whether d is a buildkit attestation manifest.
func isAttestation(d v1.Descriptor) bool {
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown" &&
		d.Annotations[annotationRefDigest] != ""
}

// extras lists idx's children that are not per-platform images (the ones
// Images skips): attestations and anything else, with their descriptors.
func extras(idx v1.ImageIndex) ([]mutate.IndexAddendum, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []mutate.IndexAddendum
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.OS != "unknown" && d.MediaType.IsImage() {
			continue
		}
		var add partial.Describable
		switch {
		case d.MediaType.IsImage():
			add, err = idx.Image(d.Digest)
		case d.MediaType.IsIndex():
			add, err = idx.ImageIndex(d.Digest)
		default:
			return nil, fmt.Errorf("child %s has unsupported media type %q", d.Digest, d.MediaType)
		}
		if err != nil {
			return nil, fmt.Errorf("child %s: %w", d.Digest, err)
		}
		out = append(out, mutate.IndexAddendum{Add: add, Descriptor: d})
	}
	return out, nil
}

// withCtx is ropts with ctx, without touching ropts' backing array.
func withCtx(ctx context.Context, ropts []remote.Option) []remote.Option {
	return append(ropts[:len(ropts):len(ropts)], remote.WithContext(ctx))
}

// isNotFound says whether err is a registry 404 (unknown tag or repository).
func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// headDigest is the digest tag points at, or the zero hash if none.
func headDigest(ctx context.Context, tag name.Tag, ropts []remote.Option) (v1.Hash, error) {
	d, err := remote.Head(tag, withCtx(ctx, ropts)...)
	if isNotFound(err) {
		return v1.Hash{}, nil
	}
	if err != nil {
		return v1.Hash{}, fmt.Errorf("checking %s: %w", tag, err)
	}
	return d.Digest, nil
}

// merged is the index Push writes: local merged into what the tag held.
type merged struct {
	remote v1.Hash // what the tag held (zero if it did not exist)
	index  v1.ImageIndex
	digest v1.Hash // of index
}

// mergeRemote reads what tag holds and merges local into it (the local
// image wins per platform).
func mergeRemote(ctx context.Context, tag name.Tag, local []PlatformImage, localExtra []mutate.IndexAddendum, ropts []remote.Option) (merged, error) {
	var baseIdx v1.ImageIndex
	var baseExtra []mutate.IndexAddendum
	var remoteDigest v1.Hash
	desc, err := remote.Get(tag, withCtx(ctx, ropts)...)
	switch {
	case isNotFound(err):
	case err != nil:
		return merged{}, fmt.Errorf("reading %s: %w", tag, err)
	case desc.MediaType.IsIndex():
		remoteDigest = desc.Digest
		if baseIdx, err = desc.ImageIndex(); err != nil {
			return merged{}, err
		}
		if baseExtra, err = extras(baseIdx); err != nil {
			return merged{}, fmt.Errorf("remote %s: %w", tag, err)
		}
	case desc.MediaType.IsImage():
		// A single image at the tag: keep it as its config's platform.
		remoteDigest = desc.Digest
		img, err := desc.Image()
		if err != nil {
			return merged{}, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return merged{}, fmt.Errorf("remote %s: %w", tag, err)
		}
		if cf.OS != "" && cf.Architecture != "" {
			if baseIdx, err = Index([]PlatformImage{{Platform: platformOf(cf), Image: img}}); err != nil {
				return merged{}, err
			}
		}
	default:
		return merged{}, fmt.Errorf("%s is a %s, not an image or index", tag, desc.MediaType)
	}
	idx, err := mergeWithExtras(baseIdx, baseExtra, local, localExtra)
	if err != nil {
		return merged{}, err
	}
	d, err := idx.Digest()
	if err != nil {
		return merged{}, err
	}
	return merged{remote: remoteDigest, index: idx, digest: d}, nil
}

func platformOf(cf *v1.ConfigFile) v1.Platform {
	if cf.Platform() != nil {
		return *cf.Platform()
	}
	return v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
}

// mergeWithExtras merges local into base with Merge, then adds the
// non-platform children of both: attestations whose subject is still in
// the merged index (the others are dropped), and any other child kept
// as is. Local children win over remote ones with the same digest. The
// order is deterministic: images by platform, then attestations by their
// subject's platform and digest, then the rest by digest.
func mergeWithExtras(base v1.ImageIndex, baseExtra []mutate.IndexAddendum, local []PlatformImage, localExtra []mutate.IndexAddendum) (v1.ImageIndex, error) {
	merged, err := Merge(base, local)
	if err != nil {
		return nil, err
	}
	im, err := merged.IndexManifest()
	if err != nil {
		return nil, err
	}
	subjects := map[string]string{} // image digest -> platform
	for _, d := range im.Manifests {
		subjects[d.Digest.String()] = d.Platform.String()
	}
	type extra struct {
		add mutate.IndexAddendum
		key string
	}
	var keep []extra
	have := map[v1.Hash]bool{}
	for _, x := range append(append([]mutate.IndexAddendum(nil), localExtra...), baseExtra...) {
		d := x.Descriptor
		if have[d.Digest] {
			continue
		}
		key := "2 " + d.Digest.String()
		if isAttestation(d) {
			p, ok := subjects[d.Annotations[annotationRefDigest]]
			if !ok {
				continue // its image is gone
			}
			key = "1 " + p + " " + d.Digest.String()
		}
		have[d.Digest] = true
		keep = append(keep, extra{x, key})
	}
	if len(keep) == 0 {
		return merged, nil
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].key < keep[j].key })
	adds := make([]mutate.IndexAddendum, len(keep))
	for i, x := range keep {
		adds[i] = x.add
	}
	return mutate.AppendManifests(merged, adds...), nil
}

// checkRelease refuses to move an existing release tag to other content
// unless force.
func checkRelease(ctx context.Context, release name.Tag, want v1.Hash, force bool, ropts []remote.Option) error {
	old, err := headDigest(ctx, release, ropts)
	if err != nil {
		return err
	}
	if old == (v1.Hash{}) || old == want || force {
		return nil
	}
	return fmt.Errorf("release tag %s already points at %s; refusing to move it to %s (use force to move it)", release, old, want)
}
