package deb

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// Fingerprints of the Debian 12 archive keys in testdata/keys, as printed
// by gpg --with-colons for /usr/share/keyrings/debian-archive-*.gpg.
const (
	fprBookwormAutomatic = "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"
	fprBookwormSecurity  = "05AB90340C0C5E797F44A8C8254CF3B5AEC0A8F0"
	fprBookwormStable    = "4D64FEC119C2029067D6E791F8D2585B8783D481"
)

// keyringOf writes keys to a temporary keyring file and loads it.
func keyringOf(t testing.TB, keys ...*testKey) *Keyring {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test.gpg")
	if err := os.WriteFile(p, public(t, keys...), 0o644); err != nil {
		t.Fatal(err)
	}
	kr, err := LoadKeyring(p)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestLoadKeyringDebian(t *testing.T) {
	kr, err := LoadKeyring("testdata/keys")
	if err != nil {
		t.Fatal(err)
	}
	// Sorted file order: automatic, security-automatic, stable.
	want := []string{fprBookwormAutomatic, fprBookwormSecurity, fprBookwormStable}
	if got := kr.Fingerprints(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Fingerprints() = %v, want %v", got, want)
	}
	// A file given again, alone, adds nothing.
	kr, err = LoadKeyring("testdata/keys/debian-archive-bookworm-stable.gpg", "testdata/keys")
	if err != nil {
		t.Fatal(err)
	}
	want = []string{fprBookwormStable, fprBookwormAutomatic, fprBookwormSecurity}
	if got := kr.Fingerprints(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Fingerprints() = %v, want %v", got, want)
	}
}

func TestLoadKeyringArmored(t *testing.T) {
	k := newTestKey(t, "armored", t0, 0)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k.asc"), armored(t, k), 0o644); err != nil {
		t.Fatal(err)
	}
	// Ignored: neither .gpg nor .asc.
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("not a key"), 0o644); err != nil {
		t.Fatal(err)
	}
	kr, err := LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := kr.Fingerprints(); len(got) != 1 || got[0] != k.fingerprint() {
		t.Fatalf("Fingerprints() = %v, want [%s]", got, k.fingerprint())
	}
	// And it verifies what the key signs.
	rel, err := VerifyInRelease(clearsignText(t, releaseText(t0, someFiles), t0, 0, k), kr, t0.Add(time.Hour))
	if err != nil || rel.SignedBy != k.fingerprint() {
		t.Fatalf("verify with armored key: %v", err)
	}
}

func TestLoadKeyringErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := filepath.Join(dir, "emptydir")
	os.Mkdir(empty, 0o755)
	keybox := append([]byte{0, 0, 0, 32, 1, 1, 0, 0}, []byte("KBXf")...)
	tests := []struct {
		name  string
		paths []string
		frag  string
	}{
		{"no paths", nil, "no paths"},
		{"missing", []string{filepath.Join(dir, "nope.gpg")}, "no such file"},
		{"dir without keys", []string{empty}, "no *.gpg or *.asc"},
		{"empty file", []string{write("empty.gpg", nil)}, "empty file"},
		{"garbage", []string{write("garbage.gpg", []byte("hello, I am not a key"))}, "garbage.gpg"},
		{"keybox", []string{write("pubring.kbx", append(keybox, make([]byte, 32)...))}, "keybox"},
		{"bad armor", []string{write("bad.asc", []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnope\n"))}, "bad.asc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKeyring(tc.paths...)
			wantErr(t, err, tc.frag)
		})
	}
}
