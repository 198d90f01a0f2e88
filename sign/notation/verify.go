package notation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	notationgo "github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	notationregistry "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/lkpkg/lkpkg/registry"
)

// maxSignatures bounds how many signatures of one artifact are examined.
const maxSignatures = 50

var (
	// ErrNotSigned: the artifact has no Notary Project signature.
	ErrNotSigned = errors.New("no Notary Project signature")
	// ErrRejected: the artifact has signatures, but none verified.
	ErrRejected = errors.New("no signature verified")
)

// Verified describes a verified artifact.
type Verified struct {
	Digest     string // the artifact's digest
	Signatures int    // how many of its signatures verified
	Signer     string // subject of the first verified signature's signing certificate
	Envelope   string // that signature's envelope format: "jws" or "cose"
}

// Verify verifies ref (host/repo@sha256:...) against a notation trust
// policy document (trustpolicy.json, notation's OCI trust policy format)
// and a trust store directory laid out as notation's
// ({trustStoreDir}/x509/{ca,signingAuthority,tsa}/{name}/*.crt).
//
// It fails closed: at least one signature must pass every check of the
// applicable policy statement. Checks that the policy only logs
// (verification levels "permissive" and "audit") are enforced too, and a
// statement with verification level "skip" is refused. Signatures that
// need a notation plugin are rejected. The error of a failed verification
// wraps ErrNotSigned or ErrRejected and names each rejected signature and
// the check it failed.
func Verify(ctx context.Context, ref string, trustPolicyPath, trustStoreDir string, ro registry.Options) (*Verified, error) {
	doc, err := loadTrustPolicy(trustPolicyPath)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(trustStoreDir); err != nil {
		return nil, fmt.Errorf("trust store: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("trust store %s is not a directory", trustStoreDir)
	}
	v, err := verifier.NewWithOptions(doc, truststore.NewX509TrustStore(trustStoreFS(trustStoreDir)), nil, verifier.VerifierOptions{})
	if err != nil {
		return nil, fmt.Errorf("trust policy %s: %w", trustPolicyPath, err)
	}

	r, err := parseDigestRef(ref)
	if err != nil {
		return nil, err
	}
	artifactRef := r.String()
	policy, err := doc.GetApplicableTrustPolicy(artifactRef)
	if err != nil {
		return nil, fmt.Errorf("trust policy %s: %w", trustPolicyPath, err)
	}
	level, err := policy.SignatureVerification.GetVerificationLevel()
	if err != nil {
		return nil, fmt.Errorf("trust policy %s: statement %q: %w", trustPolicyPath, policy.Name, err)
	}
	if level.Name == trustpolicy.LevelSkip.Name {
		return nil, fmt.Errorf("trust policy statement %q skips verification for %s: refusing", policy.Name, artifactRef)
	}

	remoteRepo, err := newRepository(r, ro)
	if err != nil {
		return nil, err
	}
	repo := notationregistry.NewRepository(remoteRepo)
	desc, err := repo.Resolve(ctx, r.Reference)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", artifactRef, err)
	}
	if desc.Digest.String() != r.Reference {
		return nil, fmt.Errorf("%s resolved to digest %s", artifactRef, desc.Digest)
	}

	var sigs []ocispec.Descriptor
	errEnough := errors.New("enough signatures")
	err = repo.ListSignatures(ctx, desc, func(page []ocispec.Descriptor) error {
		sigs = append(sigs, page...)
		if len(sigs) >= maxSignatures {
			sigs = sigs[:maxSignatures]
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, fmt.Errorf("listing signatures of %s: %w", artifactRef, err)
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("%s: %w", artifactRef, ErrNotSigned)
	}

	res := &Verified{Digest: desc.Digest.String()}
	var rejected []string
	for _, sig := range sigs {
		blob, blobDesc, err := repo.FetchSignatureBlob(ctx, sig)
		if err != nil {
			rejected = append(rejected, fmt.Sprintf("signature %s: fetching envelope: %v", sig.Digest, err))
			continue
		}
		outcome, err := v.Verify(ctx, desc, blob, notationgo.VerifierVerifyOptions{
			ArtifactReference:  artifactRef,
			SignatureMediaType: blobDesc.MediaType,
		})
		var why string
		if err != nil {
			why = explain(err, outcome, desc)
		} else if err := strict(outcome); err != nil {
			why = err.Error()
		}
		if why != "" {
			rejected = append(rejected, fmt.Sprintf("signature %s (%s): %s", sig.Digest, envelopeName(blobDesc.MediaType), why))
			continue
		}
		if res.Signatures == 0 {
			res.Signer = outcome.EnvelopeContent.SignerInfo.CertificateChain[0].Subject.String()
			res.Envelope = envelopeName(blobDesc.MediaType)
		}
		res.Signatures++
	}
	if res.Signatures == 0 {
		return nil, fmt.Errorf("%s: %w against trust policy statement %q (%d rejected):\n  %s",
			artifactRef, ErrRejected, policy.Name, len(rejected), strings.Join(rejected, "\n  "))
	}
	return res, nil
}

// strict fails a successful outcome that has any failed check, including
// ones the verification level only logs, or that was not verified at all.
func strict(o *notationgo.VerificationOutcome) error {
	if o == nil || o.EnvelopeContent == nil || len(o.EnvelopeContent.SignerInfo.CertificateChain) == 0 {
		return errors.New("signature was not verified")
	}
	for _, r := range o.VerificationResults {
		if r.Error != nil {
			return fmt.Errorf("%s check failed (policy action %q, enforced by lkpkg): %w", r.Type, r.Action, r.Error)
		}
	}
	return nil
}

// explain names the check a signature failed.
func explain(err error, o *notationgo.VerificationOutcome, want ocispec.Descriptor) string {
	if o == nil {
		return err.Error()
	}
	for _, r := range o.VerificationResults {
		if r.Error != nil && errors.Is(err, r.Error) {
			return fmt.Sprintf("%s check failed: %v", r.Type, r.Error)
		}
	}
	if o.EnvelopeContent != nil {
		var p struct {
			TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
		}
		if json.Unmarshal(o.EnvelopeContent.Payload.Content, &p) == nil && p.TargetArtifact.Digest != want.Digest {
			return fmt.Sprintf("signature is over another artifact (%s, %s), not %s", p.TargetArtifact.Digest, p.TargetArtifact.MediaType, want.Digest)
		}
	}
	return err.Error()
}

// loadTrustPolicy reads a notation trust policy document strictly (unknown
// fields are errors); verifier.NewWithOptions validates it.
func loadTrustPolicy(p string) (*trustpolicy.Document, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("trust policy: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc trustpolicy.Document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("trust policy %s: %w", p, err)
	}
	return &doc, nil
}

// trustStoreFS maps notation's config-relative trust store paths
// ("truststore/x509/...") into dir.
type trustStoreFS string

func (d trustStoreFS) Open(name string) (fs.File, error) { return os.DirFS(string(d)).Open(name) }

func (d trustStoreFS) SysPath(items ...string) (string, error) {
	p := path.Join(items...)
	rel, ok := strings.CutPrefix(p, dir.TrustStoreDir+"/")
	if !ok {
		return "", fmt.Errorf("path %q is outside the trust store", p)
	}
	return filepath.Join(string(d), filepath.FromSlash(rel)), nil
}
