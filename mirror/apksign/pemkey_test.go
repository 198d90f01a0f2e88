package apksign

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

// TestParseKeyPEM covers both encodings of each half of an RSA key and the
// refusals, which public and private keys share.
func TestParseKeyPEM(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block := func(typ string, der []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	}
	pkix, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	edPKIX, edErr := x509.MarshalPKIXPublicKey(edPriv.Public())
	pkcs8, p8Err := x509.MarshalPKCS8PrivateKey(rk)
	edPKCS8, ed8Err := x509.MarshalPKCS8PrivateKey(edPriv)
	for _, tc := range []struct {
		name string
		pem  []byte
		err  string // "" for success
	}{
		{"PKIX public", block("PUBLIC KEY", pkix, err), ""},
		{"PKCS#1 public", block("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rk.PublicKey), nil), ""},
		{"Ed25519 public", block("PUBLIC KEY", edPKIX, edErr), "not an RSA key"},
		{"PKCS#8 private", block("PRIVATE KEY", pkcs8, p8Err), ""},
		{"PKCS#1 private", block("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk), nil), ""},
		{"Ed25519 private", block("PRIVATE KEY", edPKCS8, ed8Err), "not an RSA key"},
		{"no PEM", []byte("hello"), "no PEM block found"},
		{"certificate", block("CERTIFICATE", []byte{1}, nil), `unexpected PEM block "CERTIFICATE"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if strings.Contains(tc.name, "private") {
				_, err = privateKeyPEM.parse(tc.pem)
			} else {
				_, err = ParsePublicKey(tc.pem)
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
	if _, err := privateKeyPEM.parse(block("ENCRYPTED PRIVATE KEY", []byte{1}, nil)); err == nil ||
		err.Error() != `unexpected PEM block "ENCRYPTED PRIVATE KEY" (encrypted keys are not supported)` {
		t.Fatalf("encrypted private key: %v", err)
	}
}
