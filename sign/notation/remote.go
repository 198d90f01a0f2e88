package notation

import (
	"fmt"

	orasregistry "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/lkpkg/lkpkg/registry"
)

// parseDigestRef parses host/repo@sha256:... and refuses tags: a tag can
// move, so only digests are signed and verified.
func parseDigestRef(ref string) (orasregistry.Reference, error) {
	r, err := orasregistry.ParseReference(ref)
	if err != nil {
		return orasregistry.Reference{}, fmt.Errorf("invalid reference %q: %w", ref, err)
	}
	if err := r.ValidateReferenceAsDigest(); err != nil {
		return orasregistry.Reference{}, fmt.Errorf("reference %q must name a digest (host/repo@sha256:...): %w", ref, err)
	}
	return r, nil
}

// newRepository is the oras client for r: ro's credentials and guarded
// transport (plain HTTP only to loopback hosts, token realms included).
func newRepository(r orasregistry.Reference, ro registry.Options) (*remote.Repository, error) {
	repo, err := ro.Repository(r)
	if err != nil {
		return nil, err
	}
	// On registries without the referrers API, oras keeps the referrers
	// tag index up to date. Replacing it would delete the old index,
	// which registries with deletes disabled refuse after the signature
	// was already stored; keep it instead.
	repo.SkipReferrersGC = true
	return repo, nil
}
