package apksign

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testSigner is generated once: RSA key generation dominates test time.
var testSigner = sync.OnceValues(func() (*Signer, []byte) {
	s, pub, _, err := GenerateKey("lkpkg-test", 2048)
	if err != nil {
		panic(err)
	}
	return s, pub
})

func signerKeyring(t testing.TB) (*Signer, *Keyring) {
	t.Helper()
	s, pub := testSigner()
	return s, mustKeyring(t, s.KeyName, pub)
}

// realEntries copies the named packages' records from the real v3.19 index.
func realEntries(t testing.TB, names ...string) []byte {
	t.Helper()
	idx, err := VerifyIndex(readAlpine(t, "v3.19/main/x86_64/APKINDEX.tar.gz"), alpineKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	recs := indexRecords(idx.APKINDEX)
	var out bytes.Buffer
	for _, n := range names {
		rec, ok := recs[n]
		if !ok {
			t.Fatalf("%s not in the real index", n)
		}
		out.WriteString(rec + "\n")
	}
	return out.Bytes()
}

func TestGenerateKeyName(t *testing.T) {
	s, pub := testSigner()
	if !regexp.MustCompile(`^lkpkg-test-[0-9a-f]{8}\.rsa\.pub$`).MatchString(s.KeyName) {
		t.Fatalf("key name %q", s.KeyName)
	}
	if _, err := ParsePublicKey(pub); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := GenerateKey("x", 1024); err == nil {
		t.Fatal("1024-bit key accepted")
	}
	if _, _, _, err := GenerateKey("a/b", 2048); err == nil {
		t.Fatal("key name with slash accepted")
	}
}

func TestWriteIndexRoundTrip(t *testing.T) {
	s, keys := signerKeyring(t)
	apkindex := realEntries(t, "musl-1.2.4_git20230717-r4", "zlib-1.3.1-r0")
	for _, alg := range []string{"", "RSA256", "RSA", "RSA512"} {
		t.Run("alg="+alg, func(t *testing.T) {
			s := *s
			s.Algorithm = alg
			var buf bytes.Buffer
			if err := s.WriteIndex(&buf, apkindex, "lkpkg test repo"); err != nil {
				t.Fatal(err)
			}
			idx, err := VerifyIndex(buf.Bytes(), keys)
			if err != nil {
				t.Fatal(err)
			}
			wantAlg := alg
			if wantAlg == "" {
				wantAlg = "RSA256"
			}
			if !bytes.Equal(idx.APKINDEX, apkindex) || idx.Description != "lkpkg test repo" ||
				idx.KeyName != s.KeyName || idx.Algorithm != wantAlg {
				t.Fatalf("round trip gave key %s/%s desc %q, %d bytes", idx.KeyName, idx.Algorithm, idx.Description, len(idx.APKINDEX))
			}
			// The Alpine keys must not vouch for it.
			if _, err := VerifyIndex(buf.Bytes(), alpineKeys(t)); !errors.Is(err, ErrUntrusted) {
				t.Fatalf("verified with the wrong keyring: %v", err)
			}
		})
	}
	bad := *s
	bad.Algorithm = "DSA"
	if err := bad.WriteIndex(&bytes.Buffer{}, apkindex, ""); err == nil {
		t.Fatal("unknown algorithm accepted")
	}
}

func TestWriteIndexDeterministic(t *testing.T) {
	s, _ := signerKeyring(t)
	apkindex := realEntries(t, "musl-1.2.4_git20230717-r4")
	write := func(s Signer) []byte {
		var buf bytes.Buffer
		if err := s.WriteIndex(&buf, apkindex, "d"); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b := write(*s), write(*s)
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same index differ")
	}
	later := *s
	later.ModTime = time.Date(2024, 6, 18, 15, 36, 0, 0, time.UTC)
	c, d := write(later), write(later)
	if !bytes.Equal(c, d) || bytes.Equal(a, c) {
		t.Fatal("ModTime not honoured deterministically")
	}
	// gzip headers carry no mtime (bytes 4-7) or file name flag (byte 3).
	for i, end := range append([]int{0}, memberBounds(t, a)[:1]...) {
		if h := a[end : end+10]; h[3] != 0 || !bytes.Equal(h[4:8], []byte{0, 0, 0, 0}) {
			t.Errorf("member %d gzip header % x", i, h)
		}
	}
}

func TestLoadSigner(t *testing.T) {
	s, pub, priv, err := GenerateKey("load-test", 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	privPath := filepath.Join(dir, strings.TrimSuffix(s.KeyName, ".pub"))
	if err := os.WriteFile(privPath, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(privPath+".pub", pub, 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadSigner(privPath, "")
	if err != nil {
		t.Fatal(err)
	}
	if loaded.KeyName != s.KeyName || !loaded.Key.Equal(s.Key) {
		t.Fatalf("loaded %s, want %s", loaded.KeyName, s.KeyName)
	}
	gotPub, err := loaded.PublicKeyPEM()
	if err != nil || !bytes.Equal(gotPub, pub) {
		t.Fatalf("PublicKeyPEM differs from GenerateKey's: %v", err)
	}
	keys, err := LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := loaded.WriteIndex(&buf, []byte("P:x\nV:1-r0\n\n"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyIndex(buf.Bytes(), keys); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigner(privPath+".pub", ""); err == nil || !strings.Contains(err.Error(), ".pub") {
		t.Fatalf("loading a public key as signer: %v", err)
	}
}

// Several .SIGN entries (key rotation): untrusted ones are skipped as
// apk-tools does, but every trusted one must verify.
func TestVerifyIndexSeveralSignatures(t *testing.T) {
	s, keys := signerKeyring(t)
	var one bytes.Buffer
	if err := s.WriteIndex(&one, []byte("P:x\nV:1-r0\n\n"), "multi"); err != nil {
		t.Fatal(err)
	}
	content := one.Bytes()[memberBounds(t, one.Bytes())[0]:]
	stranger, _, _, err := GenerateKey("lkpkg-stranger", 2048)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(s *Signer, alg string) tarFile {
		c := *s
		c.Algorithm = alg
		f, err := c.sign(content)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	build := func(sigs ...tarFile) []byte {
		var buf bytes.Buffer
		if err := s.writeMember(&buf, false, sigs); err != nil {
			t.Fatal(err)
		}
		return append(buf.Bytes(), content...)
	}
	idx, err := VerifyIndex(build(sign(stranger, "RSA256"), sign(s, "RSA"), sign(s, "RSA256")), keys)
	if err != nil {
		t.Fatal(err)
	}
	if idx.KeyName != s.KeyName || idx.Algorithm != "RSA" {
		t.Fatalf("reported %s/%s, want the first trusted signature %s/RSA", idx.KeyName, idx.Algorithm, s.KeyName)
	}
	broken := sign(s, "RSA")
	broken.data = bytes.Clone(broken.data)
	broken.data[7] ^= 1
	if _, err := VerifyIndex(build(sign(s, "RSA256"), broken), keys); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a broken second trusted signature: %v", err)
	}
	if _, err := VerifyIndex(build(tarFile{".SIGN.DSA." + s.KeyName, []byte("x")}), keys); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "unsupported") {
		t.Fatalf("DSA-only index: %v", err)
	}
}
