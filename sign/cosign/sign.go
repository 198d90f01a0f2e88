package cosign

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/in-toto/in-toto-golang/in_toto"
	slsa02 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v0.2"
	slsa1 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v1"
	"github.com/sigstore/cosign/v2/pkg/cosign/attestation"
	cremote "github.com/sigstore/cosign/v2/pkg/cosign/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	"github.com/sigstore/cosign/v2/pkg/types"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
	sigopts "github.com/sigstore/sigstore/pkg/signature/options"
	sigpayload "github.com/sigstore/sigstore/pkg/signature/payload"

	"github.com/lkpkg/lkpkg/registry"
)

// Sign signs the manifest or index at ref with a simplesigning payload
// (critical.image.docker-manifest-digest = ref's digest, optional =
// annotations) and appends the signature to ref's sha256-<hex>.sig tag,
// exactly as `cosign sign --key cosign.key --tlog-upload=false` does. An
// identical existing signature is not duplicated.
//
// The transparency log is not used (we are offline): nothing is uploaded
// to Rekor, so the CLI must verify with --insecure-ignore-tlog=true.
// Signing an index signs the index only; sign each child manifest too if
// platform-specific pulls must verify.
func (s *Signer) Sign(ctx context.Context, ref name.Digest, annotations map[string]string, ro registry.Options) error {
	ref, ropts, oopts, err := resolve(ctx, ref, ro)
	if err != nil {
		return fmt.Errorf("cosign sign: %w", err)
	}
	se, err := ociremote.SignedEntity(ref, oopts...)
	if err != nil {
		var nf *ociremote.EntityNotFoundError
		if errors.As(err, &nf) {
			return fmt.Errorf("cosign sign: %w", mustExist(ref, ropts))
		}
		return fmt.Errorf("cosign sign %s: %w", ref, err)
	}
	var ann map[string]any
	if len(annotations) > 0 {
		ann = make(map[string]any, len(annotations))
		for k, v := range annotations {
			ann[k] = v
		}
	}
	payload, err := (&sigpayload.Cosign{Image: ref, Annotations: ann}).MarshalJSON()
	if err != nil {
		return fmt.Errorf("cosign sign %s: payload: %w", ref, err)
	}
	raw, err := s.sv.SignMessage(bytes.NewReader(payload), sigopts.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("cosign sign %s: %w", ref, err)
	}
	sig, err := static.NewSignature(payload, base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		return fmt.Errorf("cosign sign %s: %w", ref, err)
	}
	signed, err := mutate.AttachSignatureToEntity(se, sig, mutate.WithDupeDetector(cremote.NewDupeDetector(s.sv)))
	if err != nil {
		return fmt.Errorf("cosign sign %s: %w", ref, err)
	}
	if err := ociremote.WriteSignatures(ref.Repository, signed, oopts...); err != nil {
		return fmt.Errorf("cosign sign %s: push signature: %w", ref, err)
	}
	return nil
}

// cliTypes maps predicate type URIs to the names cosign's attestation
// package (and `cosign attest --type`) knows, so statements are built as
// the CLI builds them (e.g. SLSA provenance is checked for its required
// fields).
var cliTypes = map[string]string{
	in_toto.PredicateSPDX:               "spdxjson",
	in_toto.PredicateCycloneDX:          "cyclonedx",
	in_toto.PredicateLinkV1:             "link",
	slsa02.PredicateSLSAProvenance:      "slsaprovenance02",
	slsa1.PredicateSLSAProvenance:       "slsaprovenance1",
	attestation.OpenVexNamespace:        "openvex",
	attestation.CosignVulnProvenanceV01: "vuln",
}

// Attest wraps predicate (JSON) in an in-toto statement whose subject is
// ref's digest and whose predicateType is predicateType (a URI, e.g.
// "https://spdx.dev/Document" for SPDX JSON, "https://slsa.dev/provenance/v1"
// for SLSA provenance v1), signs it as a DSSE envelope (payload type
// application/vnd.in-toto+json) and appends it to ref's sha256-<hex>.att
// tag, exactly as `cosign attest --key cosign.key --type <type>
// --tlog-upload=false` does. Existing attestations are kept.
//
// As with Sign, nothing is uploaded to a transparency log (offline).
func (s *Signer) Attest(ctx context.Context, ref name.Digest, predicateType string, predicate []byte, ro registry.Options) error {
	if _, err := url.ParseRequestURI(predicateType); err != nil {
		return fmt.Errorf("cosign attest: predicate type %q is not a URI", predicateType)
	}
	if !json.Valid(predicate) {
		return fmt.Errorf("cosign attest: predicate for %s is not valid JSON", predicateType)
	}
	ref, ropts, oopts, err := resolve(ctx, ref, ro)
	if err != nil {
		return fmt.Errorf("cosign attest: %w", err)
	}
	if err := mustExist(ref, ropts); err != nil {
		return fmt.Errorf("cosign attest: %w", err)
	}
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return fmt.Errorf("cosign attest: %w", err)
	}
	typ := predicateType
	if t, ok := cliTypes[predicateType]; ok {
		typ = t
	}
	st, err := attestation.GenerateStatement(attestation.GenerateOpts{
		Predicate: bytes.NewReader(predicate),
		Type:      typ,
		Digest:    h.Hex,
		Repo:      ref.Repository.String(),
	})
	if err != nil {
		return fmt.Errorf("cosign attest %s: %s predicate: %w", ref, predicateType, err)
	}
	statement, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("cosign attest %s: %w", ref, err)
	}
	envelope, err := dsse.WrapSigner(s.sv, types.IntotoPayloadType).SignMessage(bytes.NewReader(statement), sigopts.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("cosign attest %s: %w", ref, err)
	}
	att, err := static.NewAttestation(envelope,
		static.WithLayerMediaType(types.DssePayloadType),
		static.WithAnnotations(map[string]string{"predicateType": predicateType}))
	if err != nil {
		return fmt.Errorf("cosign attest %s: %w", ref, err)
	}
	se := ociremote.SignedUnknown(ref, oopts...)
	// Replace an earlier attestation of the same type (as `cosign attest
	// --replace`): DSSE signatures differ every time, so re-signing would
	// otherwise pile up copies.
	attested, err := mutate.AttachAttestationToEntity(se, att, mutate.WithReplaceOp(cremote.NewReplaceOp(predicateType)))
	if err != nil {
		return fmt.Errorf("cosign attest %s: %w", ref, err)
	}
	if err := ociremote.WriteAttestations(ref.Repository, attested, oopts...); err != nil {
		return fmt.Errorf("cosign attest %s: push attestation: %w", ref, err)
	}
	return nil
}
