package cosign

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	cosignlib "github.com/sigstore/cosign/v2/pkg/cosign"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	sigs "github.com/sigstore/cosign/v2/pkg/signature"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/lkpkg/lkpkg/internal/atomicfile"
	"github.com/lkpkg/lkpkg/registry"
)

// File names GenerateKeys writes, as `cosign generate-key-pair` does.
const (
	PrivateKeyFile = "cosign.key"
	PublicKeyFile  = "cosign.pub"
)

// GenerateKeys creates an ECDSA P-256 key pair exactly as `cosign
// generate-key-pair` does: dir/cosign.key holds the PKCS #8 private key
// encrypted with password (scrypt + secretbox, PEM type "ENCRYPTED
// SIGSTORE PRIVATE KEY", mode 0600) and dir/cosign.pub the PEM public key
// (mode 0644). It refuses to overwrite either file.
func GenerateKeys(dir string, password []byte) (privPath, pubPath string, err error) {
	privPath = filepath.Join(dir, PrivateKeyFile)
	pubPath = filepath.Join(dir, PublicKeyFile)
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("generate cosign keys: %s already exists; refusing to overwrite it", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("generate cosign keys: %w", err)
		}
	}
	pw := append([]byte{}, password...)
	keys, err := cosignlib.GenerateKeyPair(func(bool) ([]byte, error) { return pw, nil })
	if err != nil {
		return "", "", fmt.Errorf("generate cosign keys: %w", err)
	}
	if err := atomicfile.WriteNew(privPath, keys.PrivateBytes, 0o600); err != nil {
		return "", "", fmt.Errorf("generate cosign keys: %w", err)
	}
	if err := atomicfile.WriteNew(pubPath, keys.PublicBytes, 0o644); err != nil {
		os.Remove(privPath)
		return "", "", fmt.Errorf("generate cosign keys: %w", err)
	}
	return privPath, pubPath, nil
}

// Signer signs with a cosign private key.
type Signer struct {
	sv     signature.SignerVerifier
	pubPEM []byte
}

// LoadSigner decrypts a cosign private key file (as written by GenerateKeys
// or `cosign generate-key-pair`, PEM type "ENCRYPTED SIGSTORE PRIVATE KEY"
// or the older "ENCRYPTED COSIGN PRIVATE KEY") with password.
func LoadSigner(privPath string, password []byte) (*Signer, error) {
	b, err := os.ReadFile(privPath)
	if err != nil {
		return nil, fmt.Errorf("load cosign key: %w", err)
	}
	sv, err := cosignlib.LoadPrivateKey(b, password, nil)
	if err != nil {
		return nil, fmt.Errorf("load cosign key %s (wrong password?): %w", privPath, err)
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("load cosign key %s: %w", privPath, err)
	}
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, fmt.Errorf("load cosign key %s: %w", privPath, err)
	}
	return &Signer{sv: sv, pubPEM: pubPEM}, nil
}

// PublicKeyPEM is the signer's public key, as in cosign.pub.
func (s *Signer) PublicKeyPEM() []byte { return append([]byte{}, s.pubPEM...) }

// Fingerprint is "SHA256:<hex>" of the signer's DER public key (the value
// Verified.Signer reports).
func (s *Signer) Fingerprint() string {
	fp, _ := fingerprint(s.sv)
	return fp
}

// loadPublicKey parses a PEM public key into a verifier and its
// fingerprint.
func loadPublicKey(pubKeyPEM []byte) (signature.Verifier, string, error) {
	verifier, err := sigs.LoadPublicKeyRaw(pubKeyPEM, crypto.SHA256)
	if err != nil {
		return nil, "", err
	}
	fp, err := fingerprint(verifier)
	return verifier, fp, err
}

// fingerprint is "SHA256:<hex>" of k's DER public key.
func fingerprint(k signature.PublicKeyProvider) (string, error) {
	pub, err := k.PublicKey()
	if err != nil {
		return "", err
	}
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:]), nil
}

// resolve re-parses ref with ro's name options (so the signature and
// attestation tags derived from it inherit them) and returns the
// go-containerregistry and cosign options for ro.
func resolve(ctx context.Context, ref name.Digest, ro registry.Options) (name.Digest, []remote.Option, []ociremote.Option, error) {
	if ref.DigestStr() == "" {
		return name.Digest{}, nil, nil, errors.New("a digest reference (repo@sha256:...) is required")
	}
	nopts := ro.NameOptions()
	d, err := name.NewDigest(ref.Name(), nopts...)
	if err != nil {
		return name.Digest{}, nil, nil, fmt.Errorf("parse %s: %w", ref, err)
	}
	ropts := ro.RemoteOptions(ctx)
	oopts := []ociremote.Option{ociremote.WithRemoteOptions(ropts...)}
	if len(nopts) > 0 {
		oopts = append(oopts, ociremote.WithNameOptions(nopts...))
	}
	return d, ropts, oopts, nil
}

// mustExist fails clearly when ref's manifest is not in the registry.
func mustExist(ref name.Digest, ropts []remote.Option) error {
	if _, err := remote.Head(ref, ropts...); err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%s: manifest not found in the registry", ref)
		}
		return fmt.Errorf("%s: %w", ref, err)
	}
	return nil
}
