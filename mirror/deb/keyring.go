package deb

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// Keyring holds trusted OpenPGP archive keys, like the files apt's
// Signed-By option names.
type Keyring struct {
	entities openpgp.EntityList
}

// LoadKeyring loads keys from each path: a binary or ASCII-armored keyring
// file, or a directory whose *.gpg and *.asc files are loaded in sorted
// order. A path that yields no key is an error: a silently empty keyring
// would only surface later as a confusing "unknown key" refusal.
func LoadKeyring(paths ...string) (*Keyring, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("deb: load keyring: no paths given")
	}
	k := &Keyring{}
	seen := map[string]bool{}
	for _, p := range paths {
		files, err := keyringFiles(p)
		if err != nil {
			return nil, fmt.Errorf("deb: load keyring: %w", err)
		}
		for _, f := range files {
			el, err := readKeyringFile(f)
			if err != nil {
				return nil, fmt.Errorf("deb: load keyring %s: %w", f, err)
			}
			for _, e := range el {
				fp := fingerprint(e.PrimaryKey.Fingerprint)
				if !seen[fp] {
					seen[fp] = true
					k.entities = append(k.entities, e)
				}
			}
		}
	}
	return k, nil
}

// keyringFiles expands a directory into its sorted *.gpg/*.asc files.
func keyringFiles(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".gpg") || strings.HasSuffix(e.Name(), ".asc")) {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no *.gpg or *.asc keyring files", p)
	}
	return files, nil
}

// readKeyringFile reads a binary or armored keyring, telling the formats
// apart by content rather than by extension (apt accepts either in both).
func readKeyringFile(path string) (openpgp.EntityList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var el openpgp.EntityList
	switch trimmed := bytes.TrimSpace(data); {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("empty file")
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP")):
		el, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(trimmed))
	case len(data) >= 12 && string(data[8:12]) == "KBXf":
		return nil, fmt.Errorf("GnuPG keybox format is not supported; export it with gpg --export")
	default:
		el, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, err
	}
	if len(el) == 0 {
		return nil, fmt.Errorf("no keys")
	}
	return el, nil
}

// Fingerprints returns the primary key fingerprints (upper-case hex) in
// load order.
func (k *Keyring) Fingerprints() []string {
	if k == nil {
		return nil
	}
	fps := make([]string, len(k.entities))
	for i, e := range k.entities {
		fps[i] = fingerprint(e.PrimaryKey.Fingerprint)
	}
	return fps
}

func fingerprint(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// keyID formats a 64-bit key id the way gpg prints it.
func keyID(id uint64) string { return fmt.Sprintf("%016X", id) }
