package notation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/lkpkg/lkpkg/internal/atomicfile"
)

// Names of the files GenerateTestCA writes.
const (
	CAFile   = "ca.crt"
	CertFile = "signing.crt"
	KeyFile  = "signing.key"
)

// GenerateTestCA writes a self-signed test CA (ca.crt) and a code-signing
// leaf certificate (signing.crt, the chain leaf+CA) with its ECDSA P-256
// key (signing.key, PKCS#8 PEM, mode 0600) into dir, all valid from now
// for validity. It refuses to overwrite any of the files.
//
// The leaf's subject is CN=commonName,O=lkpkg,ST=Test,C=XX: notation's
// trusted identities (x509.subject: ...) need C, ST and O.
func GenerateTestCA(dir, commonName string, validity time.Duration) (caPath, certPath, keyPath string, err error) {
	if validity <= 0 {
		return "", "", "", fmt.Errorf("validity must be positive, got %v", validity)
	}
	now := time.Now()
	return generateCA(dir, commonName, now.Add(-time.Minute), now.Add(validity))
}

// generateCA is GenerateTestCA with an explicit validity window (the tests
// use it for expired certificates).
func generateCA(dir, commonName string, notBefore, notAfter time.Time) (caPath, certPath, keyPath string, err error) {
	if commonName == "" {
		return "", "", "", errors.New("common name is empty")
	}
	caPath = filepath.Join(dir, CAFile)
	certPath = filepath.Join(dir, CertFile)
	keyPath = filepath.Join(dir, KeyFile)
	for _, p := range []string{caPath, certPath, keyPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", "", fmt.Errorf("%s already exists, not overwriting", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", "", "", err
		}
	}

	caKey, caDER, err := newCert(&x509.Certificate{
		SerialNumber:          serial(),
		Subject:               subject(commonName + " CA"),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}, nil, nil)
	if err != nil {
		return "", "", "", fmt.Errorf("creating CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", "", "", err
	}
	key, leafDER, err := newCert(&x509.Certificate{
		SerialNumber:          serial(),
		Subject:               subject(commonName),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}, ca, caKey)
	if err != nil {
		return "", "", "", fmt.Errorf("creating signing certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(crypto.Signer(key))
	if err != nil {
		return "", "", "", err
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", "", err
	}
	caPEM := pemBlock("CERTIFICATE", caDER)
	files := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{caPath, caPEM, 0o644},
		{certPath, append(pemBlock("CERTIFICATE", leafDER), caPEM...), 0o644},
		{keyPath, pemBlock("PRIVATE KEY", keyDER), 0o600},
	}
	for i, f := range files {
		if err := atomicfile.WriteNew(f.path, f.data, f.mode); err != nil {
			for _, g := range files[:i] {
				os.Remove(g.path)
			}
			return "", "", "", err
		}
	}
	return caPath, certPath, keyPath, nil
}

// newCert makes a P-256 key and a certificate for it from tmpl, signed by
// parentKey as parent; with a nil parent the certificate is self-signed.
func newCert(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	return key, der, err
}

func subject(cn string) pkix.Name {
	return pkix.Name{
		CommonName:   cn,
		Organization: []string{"lkpkg"},
		Province:     []string{"Test"},
		Country:      []string{"XX"},
	}
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n.Add(n, big.NewInt(1))
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
