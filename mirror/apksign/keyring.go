package apksign

import (
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Keyring holds trusted RSA public keys by file name. apk-tools looks keys up
// by the exact name carried in the ".SIGN.*.<name>" entry, which is the key's
// file name in /etc/apk/keys, so that is the identity used here too.
// It is safe for concurrent verification once all keys are added.
type Keyring struct {
	keys map[string]*rsa.PublicKey
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring {
	return &Keyring{keys: make(map[string]*rsa.PublicKey)}
}

// LoadKeyring loads every *.pub file in dir (Alpine names them *.rsa.pub).
// Any unreadable or unparsable key fails the whole load: a silently missing
// key would later surface as a confusing "untrusted" error.
func LoadKeyring(dir string) (*Keyring, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("apksign: load keyring: %w", err)
	}
	k := NewKeyring()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".pub") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("apksign: load keyring: %w", err)
		}
		if err := k.Add(e.Name(), data); err != nil {
			return nil, fmt.Errorf("apksign: load keyring: %s: %w", path, err)
		}
	}
	if len(k.keys) == 0 {
		return nil, fmt.Errorf("apksign: load keyring: no *.pub keys in %s", dir)
	}
	return k, nil
}

// Add trusts the PEM-encoded RSA public key under name.
func (k *Keyring) Add(name string, pemBytes []byte) error {
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("invalid key name %q", name)
	}
	pub, err := ParsePublicKey(pemBytes)
	if err != nil {
		return fmt.Errorf("key %s: %w", name, err)
	}
	if k.keys == nil {
		k.keys = make(map[string]*rsa.PublicKey)
	}
	k.keys[name] = pub
	return nil
}

// Key returns the trusted key called name, if any.
func (k *Keyring) Key(name string) (*rsa.PublicKey, bool) {
	if k == nil {
		return nil, false
	}
	pub, ok := k.keys[name]
	return pub, ok
}

// Names lists the trusted key names, sorted.
func (k *Keyring) Names() []string {
	if k == nil {
		return nil
	}
	names := make([]string, 0, len(k.keys))
	for n := range k.keys {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParsePublicKey decodes a PEM RSA public key, either PKIX ("PUBLIC KEY",
// what openssl and abuild-keygen write) or PKCS#1 ("RSA PUBLIC KEY").
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	return publicKeyPEM.parse(pemBytes)
}
