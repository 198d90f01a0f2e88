package notation

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	corex509 "github.com/notaryproject/notation-core-go/x509"
	notationgo "github.com/notaryproject/notation-go"
	notationregistry "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/signer"

	"github.com/lkpkg/lkpkg/registry"
)

// Envelope formats (notation's --signature-format).
const (
	EnvelopeJWS  = "jws"
	EnvelopeCOSE = "cose"
)

// ArtifactType is the artifactType of a notation signature manifest.
const ArtifactType = notationregistry.ArtifactTypeNotation

func envelopeMediaType(envelope string) (string, error) {
	switch envelope {
	case EnvelopeJWS, "":
		return jws.MediaTypeEnvelope, nil
	case EnvelopeCOSE:
		return cose.MediaTypeEnvelope, nil
	}
	return "", fmt.Errorf("unknown signature envelope %q (want %q or %q)", envelope, EnvelopeJWS, EnvelopeCOSE)
}

func envelopeName(mediaType string) string {
	switch mediaType {
	case jws.MediaTypeEnvelope:
		return EnvelopeJWS
	case cose.MediaTypeEnvelope:
		return EnvelopeCOSE
	}
	return mediaType
}

// Signer signs with a local key and its certificate chain.
type Signer struct {
	signer *signer.GenericSigner
	chain  []*x509.Certificate
}

// LoadSigner loads a PEM private key (PKCS#8, PKCS#1 or EC) and the PEM
// certificate chain (leaf first, ending with the root CA) that goes with
// it. The chain must meet the Notary Project code-signing requirements and
// be valid now.
func LoadSigner(keyPath, certChainPath string) (*Signer, error) {
	pair, err := tls.LoadX509KeyPair(certChainPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("loading signing key %s and certificate chain %s: %w", keyPath, certChainPath, err)
	}
	chain := make([]*x509.Certificate, len(pair.Certificate))
	for i, der := range pair.Certificate {
		if chain[i], err = x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", certChainPath, i, err)
		}
	}
	now := time.Now()
	for _, c := range chain {
		if now.After(c.NotAfter) {
			return nil, fmt.Errorf("%s: certificate %q expired at %s", certChainPath, c.Subject, c.NotAfter.Format(time.RFC3339))
		}
		if now.Before(c.NotBefore) {
			return nil, fmt.Errorf("%s: certificate %q is not valid before %s", certChainPath, c.Subject, c.NotBefore.Format(time.RFC3339))
		}
	}
	if err := corex509.ValidateCodeSigningCertChain(chain, &now); err != nil {
		return nil, fmt.Errorf("%s: not a usable code-signing certificate chain: %w", certChainPath, err)
	}
	gs, err := signer.NewGenericSigner(pair.PrivateKey, chain)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", keyPath, err)
	}
	return &Signer{signer: gs, chain: chain}, nil
}

// Subject is the signing certificate's subject.
func (s *Signer) Subject() string { return s.chain[0].Subject.String() }

// Sign signs ref (host/repo@sha256:...) with the envelope format "jws" or
// "cose" and pushes the signature as an OCI 1.1 referrer of ref
// (artifactType application/vnd.cncf.notary.signature). Without the
// registry's referrers API, the referrers tag schema (an index tagged
// sha256-<hex>) is used.
func (s *Signer) Sign(ctx context.Context, ref string, envelope string, ro registry.Options) error {
	mediaType, err := envelopeMediaType(envelope)
	if err != nil {
		return err
	}
	r, err := parseDigestRef(ref)
	if err != nil {
		return err
	}
	repo, err := newRepository(r, ro)
	if err != nil {
		return err
	}
	_, err = notationgo.Sign(ctx, s.signer, notationregistry.NewRepository(repo), notationgo.SignOptions{
		SignerSignOptions: notationgo.SignerSignOptions{
			SignatureMediaType: mediaType,
			SigningAgent:       "lkpkg",
		},
		ArtifactReference: r.String(),
	})
	if err != nil {
		return fmt.Errorf("notation signing %s: %w", r, err)
	}
	return nil
}
