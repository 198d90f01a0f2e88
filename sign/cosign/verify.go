package cosign

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/in-toto/in-toto-golang/in_toto"
	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	cosignlib "github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"

	"github.com/lkpkg/lkpkg/registry"
)

// Errors Verify wraps (test with errors.Is).
var (
	// ErrNotSigned: the manifest has no cosign signature at all.
	ErrNotSigned = errors.New("no cosign signature")
	// ErrNoValidSignature: signatures exist but none verifies with the key
	// for this digest.
	ErrNoValidSignature = errors.New("no valid cosign signature")
	// ErrBadAttestation: an attestation does not verify.
	ErrBadAttestation = errors.New("invalid cosign attestation")
)

// Verified is what Verify checked.
type Verified struct {
	// Digest is the verified manifest or index digest.
	Digest v1.Hash
	// Signatures is how many signatures verified with the key.
	Signatures int
	// Signer is the key's fingerprint: "SHA256:<hex>" of its DER
	// SubjectPublicKeyInfo.
	Signer string
	// Attestations are the predicate types of the verified attestations,
	// in storage order.
	Attestations []string
}

// claimError marks a signature that is cryptographically valid but whose
// signed payload names another subject.
type claimError struct{ err error }

func (e *claimError) Error() string { return e.err.Error() }

// Verify checks ref's cosign signatures and attestations against the
// public key pubKeyPEM (cosign.pub), as `cosign verify --key cosign.pub
// --insecure-ignore-tlog=true` and `cosign verify-attestation --key
// cosign.pub --insecure-ignore-tlog=true` do: signature cryptography, and
// the signed claims (the simplesigning payload's docker-manifest-digest,
// the in-toto statement's subject digest) must name ref's digest. No
// transparency log is consulted (offline).
//
// It fails closed: an unsigned manifest, signatures made with another key,
// a signature over another digest (e.g. copied from another image's .sig
// tag) and a tampered signature or payload are all errors. At least one
// signature must verify (others, e.g. by other signers, are ignored, as
// cosign does). Every attestation stored for ref must verify with the key
// (stricter than `cosign verify-attestation`, which accepts any one); having
// no attestation is not an error.
func Verify(ctx context.Context, ref name.Digest, pubKeyPEM []byte, ro registry.Options) (*Verified, error) {
	verifier, fp, err := loadPublicKey(pubKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("cosign verify: public key: %w", err)
	}
	ref, ropts, oopts, err := resolve(ctx, ref, ro)
	if err != nil {
		return nil, fmt.Errorf("cosign verify: %w", err)
	}
	if err := mustExist(ref, ropts); err != nil {
		return nil, fmt.Errorf("cosign verify: %w", err)
	}
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return nil, fmt.Errorf("cosign verify: %w", err)
	}
	co := &cosignlib.CheckOpts{
		RegistryClientOpts: oopts,
		SigVerifier:        verifier,
		IgnoreTlog:         true,
		IgnoreSCT:          true,
		ClaimVerifier: func(sig oci.Signature, d v1.Hash, ann map[string]any) error {
			if err := cosignlib.SimpleClaimVerifier(sig, d, ann); err != nil {
				return &claimError{err}
			}
			return nil
		},
	}

	// Signatures.
	sigTag, list, err := fetch(ref, ociremote.SignatureTag, "signatures", oopts)
	if err != nil {
		return nil, fmt.Errorf("cosign verify %s: %w", ref, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("cosign verify %s: %w: nothing at %s", ref, ErrNotSigned, sigTag)
	}
	v := &Verified{Digest: h, Signer: fp}
	var problems []string
	for i, sig := range list {
		if _, err := cosignlib.VerifyImageSignature(ctx, sig, h, co); err != nil {
			problems = append(problems, fmt.Sprintf("signature %d: %s", i+1, describe(err, "signed payload names another image than "+h.String()+" (signature copied from another image?)")))
			continue
		}
		v.Signatures++
	}
	if v.Signatures == 0 {
		return nil, fmt.Errorf("cosign verify %s: %w for key %s among %d at %s:\n  %s",
			ref, ErrNoValidSignature, fp, len(list), sigTag, strings.Join(problems, "\n  "))
	}

	// Attestations: all of them must verify.
	attTag, atts, err := fetch(ref, ociremote.AttestationTag, "attestations", oopts)
	if err != nil {
		return nil, fmt.Errorf("cosign verify %s: %w", ref, err)
	}
	aco := *co
	aco.ClaimVerifier = func(sig oci.Signature, d v1.Hash, ann map[string]any) error {
		if err := cosignlib.IntotoSubjectClaimVerifier(sig, d, ann); err != nil {
			return &claimError{err}
		}
		return nil
	}
	for i, att := range atts {
		label := fmt.Sprintf("attestation %d at %s", i+1, attTag)
		if a, err := att.Annotations(); err == nil && a["predicateType"] != "" {
			label += fmt.Sprintf(" (predicateType %s)", a["predicateType"])
		}
		if _, err := cosignlib.VerifyBlobAttestation(ctx, att, h, &aco); err != nil {
			return nil, fmt.Errorf("cosign verify %s: %w: %s: %s", ref, ErrBadAttestation, label,
				describe(err, "in-toto subject does not name "+h.String()+" (attestation copied from another image?)"))
		}
		pt, err := predicateType(att)
		if err != nil {
			return nil, fmt.Errorf("cosign verify %s: %w: %s: %v", ref, ErrBadAttestation, label, err)
		}
		v.Attestations = append(v.Attestations, pt)
	}
	return v, nil
}

// fetch lists the signature layers at the tag tagOf derives from ref (none
// if the tag is absent); errors reading them are labelled with what.
func fetch(ref name.Digest, tagOf func(name.Reference, ...ociremote.Option) (name.Tag, error), what string, oopts []ociremote.Option) (name.Tag, []oci.Signature, error) {
	tag, err := tagOf(ref, oopts...)
	if err != nil {
		return tag, nil, err
	}
	s, err := ociremote.Signatures(tag, oopts...)
	if err == nil {
		var list []oci.Signature
		if list, err = s.Get(); err == nil {
			return tag, list, nil
		}
	}
	return tag, nil, fmt.Errorf("%s: %w", what, err)
}

// describe explains a per-signature verification failure.
func describe(err error, claimMsg string) string {
	var ce *claimError
	if errors.As(err, &ce) {
		return fmt.Sprintf("%s: %v", claimMsg, ce.err)
	}
	return fmt.Sprintf("signature does not verify with the public key (made with another key, or signature/payload tampered): %v", err)
}

// predicateType reads the predicate type from a verified attestation's
// signed in-toto statement (not from the unsigned annotation).
func predicateType(att oci.Signature) (string, error) {
	p, err := att.Payload()
	if err != nil {
		return "", err
	}
	var env ssldsse.Envelope
	if err := json.Unmarshal(p, &env); err != nil {
		return "", fmt.Errorf("DSSE envelope: %w", err)
	}
	st, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return "", fmt.Errorf("DSSE payload: %w", err)
	}
	var h in_toto.StatementHeader
	if err := json.Unmarshal(st, &h); err != nil {
		return "", fmt.Errorf("in-toto statement: %w", err)
	}
	if h.PredicateType == "" {
		return "", errors.New("in-toto statement has no predicateType")
	}
	return h.PredicateType, nil
}
