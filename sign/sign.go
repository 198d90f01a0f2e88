package sign

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/lkpkg/lkpkg/registry"
	"github.com/lkpkg/lkpkg/sign/cosign"
	"github.com/lkpkg/lkpkg/sign/notation"
)

// Resolve turns a tag or digest reference into the digest it names now.
func Resolve(ctx context.Context, ref string, r registry.Options) (name.Digest, error) {
	parsed, err := name.ParseReference(ref, r.NameOptions()...)
	if err != nil {
		return name.Digest{}, err
	}
	if err := r.Check(parsed.Context().RegistryStr()); err != nil {
		return name.Digest{}, err
	}
	if d, ok := parsed.(name.Digest); ok {
		return d, nil
	}
	desc, err := remote.Head(parsed, r.RemoteOptions(ctx)...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("%s: %w", ref, err)
	}
	return parsed.Context().Digest(desc.Digest.String()), nil
}

// Signers are the signatures to make; either may be nil, not both.
type Signers struct {
	Cosign   *cosign.Signer
	Notation *notation.Signer
	Envelope string // notation envelope: "jws" (default) or "cose"
}

// Attestation is a predicate to attach, signed, to a per-platform image.
type Attestation struct {
	PredicateType string
	Predicate     []byte
}

// Attester makes the attestations for one per-platform image.
type Attester func(ctx context.Context, platform v1.Platform, img v1.Image) ([]Attestation, error)

// Signed is one manifest that was signed.
type Signed struct {
	Digest       v1.Hash
	Platform     string // "" for the index
	Attestations []string
}

// Index signs the image index at ref and the per-platform manifests it
// lists — only those in only, when only is not nil: after a merge, the
// platforms another host pushed are that host's to sign. attest (may be
// nil) gives each signed image's attestations, attached with cosign
// (DSSE, signed by the same key).
func Index(ctx context.Context, ref name.Digest, s Signers, attest Attester, r registry.Options, only map[v1.Hash]bool) ([]Signed, error) {
	if s.Cosign == nil && s.Notation == nil {
		return nil, errors.New("nothing to sign with: give a cosign key and/or a notation key and certificate")
	}
	if attest != nil && s.Cosign == nil {
		return nil, errors.New("attestations are signed with cosign: give a cosign key")
	}
	desc, err := get(ctx, ref, r)
	if err != nil {
		return nil, err
	}
	if desc.MediaType.IsImage() {
		// A single manifest: sign (and attest) just that.
		done, err := signSingle(ctx, ref, desc, s, attest, r)
		if err != nil {
			return nil, err
		}
		return []Signed{done}, nil
	}
	idx, children, err := platformChildren(desc)
	if err != nil {
		return nil, err
	}
	// Children first, the index last: whoever sees a signed index finds
	// its platforms signed too.
	var out []Signed
	for _, d := range children {
		if only != nil && !only[d.Digest] {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return out, err
		}
		done, err := signImage(ctx, ref.Context().Digest(d.Digest.String()), *d.Platform, img, s, attest, r)
		if err != nil {
			return out, err
		}
		out = append(out, done)
	}
	if err := signOne(ctx, ref, s, r); err != nil {
		return out, err
	}
	return append(out, Signed{Digest: mustHash(ref)}), nil
}

// signSingle signs (and attests) the single image manifest desc at ref.
func signSingle(ctx context.Context, ref name.Digest, desc *remote.Descriptor, s Signers, attest Attester, r registry.Options) (Signed, error) {
	img, err := desc.Image()
	if err != nil {
		return Signed{}, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return Signed{}, err
	}
	var platform v1.Platform
	if p := cf.Platform(); p != nil {
		platform = *p
	}
	return signImage(ctx, ref, platform, img, s, attest, r)
}

// signImage attaches img's attestations, then signs it.
func signImage(ctx context.Context, ref name.Digest, platform v1.Platform, img v1.Image, s Signers, attest Attester, r registry.Options) (Signed, error) {
	done := Signed{Digest: mustHash(ref), Platform: platform.String()}
	if attest != nil {
		atts, err := attest(ctx, platform, img)
		if err != nil {
			return done, fmt.Errorf("attestations for %s: %w", platform, err)
		}
		for _, a := range atts {
			if err := s.Cosign.Attest(ctx, ref, a.PredicateType, a.Predicate, r); err != nil {
				return done, fmt.Errorf("attest %s (%s): %w", ref, a.PredicateType, err)
			}
			done.Attestations = append(done.Attestations, a.PredicateType)
		}
	}
	return done, signOne(ctx, ref, s, r)
}

func signOne(ctx context.Context, ref name.Digest, s Signers, r registry.Options) error {
	if s.Cosign != nil {
		if err := s.Cosign.Sign(ctx, ref, nil, r); err != nil {
			return fmt.Errorf("cosign sign %s: %w", ref, err)
		}
	}
	if s.Notation != nil {
		if err := s.Notation.Sign(ctx, ref.String(), s.Envelope, r); err != nil {
			return fmt.Errorf("notation sign %s: %w", ref, err)
		}
	}
	return nil
}

// get fetches the manifest or index at ref (insecure only to loopback).
func get(ctx context.Context, ref name.Digest, r registry.Options) (*remote.Descriptor, error) {
	if err := r.Check(ref.Context().RegistryStr()); err != nil {
		return nil, err
	}
	desc, err := remote.Get(ref, r.RemoteOptions(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return desc, nil
}

// platformChildren reads the index desc and lists its per-platform images.
func platformChildren(desc *remote.Descriptor) (v1.ImageIndex, []v1.Descriptor, error) {
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, err
	}
	return idx, platformImages(im), nil
}

// platformImages are the per-platform image manifests an index lists:
// what is signed and verified. Attestation manifests (platform
// unknown/unknown) are covered by their own signatures instead.
func platformImages(im *v1.IndexManifest) []v1.Descriptor {
	var out []v1.Descriptor
	for _, d := range im.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" || !d.MediaType.IsImage() {
			continue
		}
		out = append(out, d)
	}
	return out
}

func mustHash(d name.Digest) v1.Hash {
	h, _ := v1.NewHash(d.DigestStr())
	return h
}

// Policy is what a verification requires. At least one of the two.
type Policy struct {
	CosignPublicKey    []byte // PEM
	NotationPolicy     string // trustpolicy.json
	NotationTrustStore string // dir laid out as notation's truststore
	// RequireAttestations are predicate types every per-platform manifest
	// must carry, verified with the cosign key: without it, someone able
	// to write to the registry could strip the SBOM unnoticed.
	RequireAttestations []string
}

// Verified is what Verify checked for one manifest.
type Verified struct {
	Digest       v1.Hash
	Platform     string // "" for the index
	Cosign       *cosign.Verified
	Notation     *notation.Verified
	Attestations []string
}

// Verify checks the image at ref — the index and every per-platform
// manifest it lists (or the single manifest) — against the policy. It
// fails closed: a missing or invalid signature anywhere is an error.
func Verify(ctx context.Context, ref name.Digest, p Policy, r registry.Options) ([]Verified, error) {
	if len(p.CosignPublicKey) == 0 && p.NotationPolicy == "" {
		return nil, errors.New("no verification policy: give a cosign public key and/or a notation trust policy")
	}
	if len(p.RequireAttestations) > 0 && len(p.CosignPublicKey) == 0 {
		return nil, errors.New("required attestations are verified with the cosign key: give one")
	}
	if p.NotationPolicy != "" && p.NotationTrustStore == "" {
		return nil, errors.New("a notation trust policy needs its trust store directory")
	}
	desc, err := get(ctx, ref, r)
	if err != nil {
		return nil, err
	}
	targets := []Verified{{Digest: desc.Digest}}
	if desc.MediaType.IsIndex() {
		_, children, err := platformChildren(desc)
		if err != nil {
			return nil, err
		}
		for _, d := range children {
			targets = append(targets, Verified{Digest: d.Digest, Platform: d.Platform.String()})
		}
	}
	for i := range targets {
		t := &targets[i]
		d := ref.Context().Digest(t.Digest.String())
		if len(p.CosignPublicKey) > 0 {
			if t.Cosign, err = cosign.Verify(ctx, d, p.CosignPublicKey, r); err != nil {
				return targets[:i], fmt.Errorf("%s: %w", describe(d, t.Platform), err)
			}
			t.Attestations = t.Cosign.Attestations
			if t.Platform != "" {
				for _, want := range p.RequireAttestations {
					if !containsString(t.Attestations, want) {
						return targets[:i], fmt.Errorf("%s: required attestation %s is missing", describe(d, t.Platform), want)
					}
				}
			}
		}
		if p.NotationPolicy != "" {
			if t.Notation, err = notation.Verify(ctx, d.String(), p.NotationPolicy, p.NotationTrustStore, r); err != nil {
				return targets[:i], fmt.Errorf("%s: %w", describe(d, t.Platform), err)
			}
		}
	}
	return targets, nil
}

func describe(d name.Digest, platform string) string {
	if platform == "" {
		return "index " + d.String()
	}
	return platform + " " + d.String()
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
