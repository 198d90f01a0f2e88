package apksign

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Signer signs indexes with an RSA private key under a key name, the file
// name clients install the public key as (e.g.
// "lkpkg-mirror-1a2b3c4d.rsa.pub"): apk-tools finds the key by that name.
type Signer struct {
	KeyName string
	Key     *rsa.PrivateKey
	// Algorithm is the signature type written: "RSA256" (default, SHA-256)
	// or "RSA" (SHA-1, for apk-tools older than 2.10).
	Algorithm string
	// ModTime is stamped on every tar entry; zero means the Unix epoch.
	ModTime time.Time
}

// GenerateKey makes a new key pair. The key name is
// "<name>-<8 hex digits of the public key's SHA-256>.rsa.pub", so that
// rotated keys get distinct file names as Alpine's do. privPEM is PKCS#8
// (what openssl genrsa writes), pubPEM is PKIX.
func GenerateKey(name string, bits int) (s *Signer, pubPEM, privPEM []byte, err error) {
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return nil, nil, nil, fmt.Errorf("apksign: invalid key name %q", name)
	}
	if bits < 2048 {
		return nil, nil, nil, fmt.Errorf("apksign: %d-bit RSA keys are too weak, use at least 2048", bits)
	}
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("apksign: generate key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("apksign: generate key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("apksign: generate key: %w", err)
	}
	fp := sha256.Sum256(pubDER)
	s = &Signer{KeyName: name + "-" + hex.EncodeToString(fp[:4]) + ".rsa.pub", Key: key}
	pubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	privPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})
	return s, pubPEM, privPEM, nil
}

// LoadSigner reads a PEM RSA private key (PKCS#8 or PKCS#1, unencrypted).
// An empty keyName follows abuild's convention: "<file>.pub" for a private
// key file named "*.rsa".
func LoadSigner(privPEMPath string, keyName string) (*Signer, error) {
	data, err := os.ReadFile(privPEMPath)
	if err != nil {
		return nil, fmt.Errorf("apksign: load signer: %w", err)
	}
	if keyName == "" {
		base := filepath.Base(privPEMPath)
		if !strings.HasSuffix(base, ".rsa") {
			return nil, fmt.Errorf("apksign: load signer: %s: no key name given and file name does not end in .rsa", privPEMPath)
		}
		keyName = base + ".pub"
	}
	if strings.ContainsAny(keyName, "/\x00") {
		return nil, fmt.Errorf("apksign: load signer: invalid key name %q", keyName)
	}
	key, err := privateKeyPEM.parse(data)
	if err != nil {
		return nil, fmt.Errorf("apksign: load signer: %s: %w", privPEMPath, err)
	}
	return &Signer{KeyName: keyName, Key: key}, nil
}

// PublicKeyPEM returns the PKIX PEM to install as /etc/apk/keys/<KeyName>.
func (s *Signer) PublicKeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(&s.Key.PublicKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
