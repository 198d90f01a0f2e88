package sign

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/manifest"
	"github.com/lkpkg/lkpkg/pkgbuild"
	"github.com/lkpkg/lkpkg/registry"
	"github.com/lkpkg/lkpkg/sign/attest"
)

// Pushed signs what one host pushed: pushed is the index now at the tag
// (after manifest.Push merged local into it), local the index this host
// pushed. The merged index is signed, and of its platforms only those
// local holds: platforms merged in from another host are that host's to
// sign.
func Pushed(ctx context.Context, pushed name.Digest, local v1.ImageIndex, s Signers, attest Attester, r registry.Options) ([]Signed, error) {
	only, err := imageDigests(local)
	if err != nil {
		return nil, err
	}
	return Index(ctx, pushed, s, attest, r, only)
}

// imageDigests are the digests of idx's per-platform images.
func imageDigests(idx v1.ImageIndex) (map[v1.Hash]bool, error) {
	imgs, err := manifest.Images(idx)
	if err != nil {
		return nil, err
	}
	out := map[v1.Hash]bool{}
	for _, pi := range imgs {
		d, err := pi.Image.Digest()
		if err != nil {
			return nil, err
		}
		out[d] = true
	}
	return out, nil
}

// DefaultAttester makes each per-platform image's attestations: its SPDX
// SBOM (from its package databases) and, when pkg is not nil, the SLSA
// provenance of the package build (bases looked up in c). Both are
// deterministic: no random IDs, no wall-clock times. imageName is the
// repository the SBOM names.
func DefaultAttester(c *cache.Cache, pkg *pkgbuild.Package, imageName string) Attester {
	return func(ctx context.Context, platform v1.Platform, img v1.Image) ([]Attestation, error) {
		sbom, err := attest.SBOM(img, imageName)
		if err != nil {
			return nil, err
		}
		out := []Attestation{{PredicateType: attest.SPDXPredicateType, Predicate: sbom}}
		if pkg == nil {
			return out, nil
		}
		b, err := attest.PackageBuild(c, pkg, platform)
		if err != nil {
			return nil, err
		}
		prov, err := attest.Provenance(b)
		if err != nil {
			return nil, err
		}
		return append(out, Attestation{PredicateType: attest.SLSAProvenanceType, Predicate: prov}), nil
	}
}
