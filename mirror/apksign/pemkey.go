package apksign

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// rsaPEM is how one half (public or private) of an RSA key is written as
// PEM: in a generic encoding that may hold any algorithm, or as PKCS#1.
type rsaPEM[K any] struct {
	generic      string // PKIX or PKCS#8 block type
	parseGeneric func([]byte) (any, error)
	pkcs1        string // PKCS#1 block type
	parsePKCS1   func([]byte) (K, error)
	hint         string // added to the error for an unexpected block
}

var (
	publicKeyPEM = rsaPEM[*rsa.PublicKey]{
		generic: "PUBLIC KEY", parseGeneric: x509.ParsePKIXPublicKey,
		pkcs1: "RSA PUBLIC KEY", parsePKCS1: x509.ParsePKCS1PublicKey,
	}
	privateKeyPEM = rsaPEM[*rsa.PrivateKey]{
		generic: "PRIVATE KEY", parseGeneric: x509.ParsePKCS8PrivateKey,
		pkcs1: "RSA PRIVATE KEY", parsePKCS1: x509.ParsePKCS1PrivateKey,
		hint: " (encrypted keys are not supported)",
	}
)

// parse decodes the first PEM block of pemBytes, refusing keys other than
// RSA.
func (f rsaPEM[K]) parse(pemBytes []byte) (K, error) {
	var zero K
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return zero, errors.New("no PEM block found")
	}
	switch block.Type {
	case f.generic:
		k, err := f.parseGeneric(block.Bytes)
		if err != nil {
			return zero, err
		}
		rk, ok := k.(K)
		if !ok {
			return zero, fmt.Errorf("not an RSA key (%T)", k)
		}
		return rk, nil
	case f.pkcs1:
		return f.parsePKCS1(block.Bytes)
	default:
		return zero, fmt.Errorf("unexpected PEM block %q%s", block.Type, f.hint)
	}
}
