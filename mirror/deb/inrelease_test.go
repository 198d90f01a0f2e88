package deb

import (
	"bytes"
	"crypto"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

var someFiles = map[string]FileHash{
	"main/binary-amd64/Packages.xz": {SHA256: strings.Repeat("ab", 32), Size: 1234},
	"main/binary-amd64/Packages":    {SHA256: strings.Repeat("cd", 32), Size: 5678},
}

func TestVerifyInReleaseSynthetic(t *testing.T) {
	good := newTestKey(t, "good", t0.Add(-48*time.Hour), 0)
	other := newTestKey(t, "other", t0.Add(-48*time.Hour), 0)
	// Valid for 10 days from its creation, 20 days before t0.
	expiring := newTestKey(t, "expiring", t0.Add(-20*24*time.Hour), 10*24*time.Hour)
	revoked := newTestKey(t, "revoked", t0.Add(-48*time.Hour), 0)
	revoked.revoke(t, t0.Add(-time.Hour))

	signedAt := t0.Add(-time.Hour)
	plain := releaseText(signedAt, someFiles)
	tests := []struct {
		name    string
		data    []byte
		kr      *Keyring
		wantErr error
		frags   []string // must appear in the error
		signer  *testKey
	}{
		{name: "good", data: clearsignText(t, plain, signedAt, 0, good), kr: keyringOf(t, good), signer: good},
		{
			name:   "unknown first, good second",
			data:   clearsignText(t, plain, signedAt, 0, other, good),
			kr:     keyringOf(t, good),
			signer: good,
		},
		{
			name:   "expired key first, good second",
			data:   clearsignText(t, plain, t0.Add(-11*24*time.Hour), 0, expiring, good),
			kr:     keyringOf(t, expiring, good),
			signer: good,
		},
		{
			name:    "unknown key only",
			data:    clearsignText(t, plain, signedAt, 0, other),
			kr:      keyringOf(t, good),
			wantErr: ErrUnknownKey,
			frags:   []string{"testy", other.fingerprint(), "not in keyring"},
		},
		{
			name:    "tampered",
			data:    bytes.Replace(clearsignText(t, plain, signedAt, 0, good), []byte("abab"), []byte("abac"), 1),
			kr:      keyringOf(t, good),
			wantErr: ErrBadSignature,
			frags:   []string{"testy", good.fingerprint(), "bad signature"},
		},
		{
			name:    "key expired",
			data:    clearsignText(t, releaseText(t0.Add(-11*24*time.Hour), someFiles), t0.Add(-11*24*time.Hour), 0, expiring),
			kr:      keyringOf(t, expiring),
			wantErr: ErrKeyExpired,
			frags:   []string{expiring.fingerprint(), "key expired"},
		},
		{
			name:    "key revoked",
			data:    clearsignText(t, plain, signedAt.Add(-time.Hour), 0, revoked),
			kr:      keyringOf(t, revoked),
			wantErr: ErrKeyRevoked,
			frags:   []string{revoked.fingerprint(), "revoked"},
		},
		{
			name:    "signature expired",
			data:    clearsignText(t, releaseText(t0.Add(-3*time.Hour), someFiles), t0.Add(-3*time.Hour), time.Hour, good),
			kr:      keyringOf(t, good),
			wantErr: ErrSignatureExpired,
			frags:   []string{"signature expired"},
		},
		{
			name:    "Valid-Until in the past",
			data:    clearsignText(t, releaseText(signedAt, someFiles, "Valid-Until: "+t0.Add(-time.Minute).Format(time.RFC1123)), signedAt, 0, good),
			kr:      keyringOf(t, good),
			wantErr: ErrReleaseExpired,
			frags:   []string{"testy", "Valid-Until 2026-03-01T11:59:00Z"},
		},
		{
			name:   "Valid-Until in the future",
			data:   clearsignText(t, releaseText(signedAt, someFiles, "Valid-Until: "+t0.Add(time.Hour).Format(time.RFC1123)), signedAt, 0, good),
			kr:     keyringOf(t, good),
			signer: good,
		},
		{
			name:    "Date an hour ahead",
			data:    clearsignText(t, releaseText(t0.Add(time.Hour), someFiles), signedAt, 0, good),
			kr:      keyringOf(t, good),
			wantErr: ErrNotYetValid,
			frags:   []string{"testy", "Date 2026-03-01T13:00:00Z"},
		},
		{
			// Clocks drift: a Release (and signature) a minute "from the
			// future" is accepted.
			name:   "Date within skew",
			data:   clearsignText(t, releaseText(t0.Add(time.Minute), someFiles), t0.Add(time.Minute), 0, good),
			kr:     keyringOf(t, good),
			signer: good,
		},
		{
			name:    "unsigned",
			data:    []byte(plain),
			kr:      keyringOf(t, good),
			wantErr: ErrNotClearsigned,
			frags:   []string{"unsigned"},
		},
		{
			name:    "text before the signed message",
			data:    append([]byte("Suite: evil\n\n"), clearsignText(t, plain, signedAt, 0, good)...),
			kr:      keyringOf(t, good),
			wantErr: ErrNotClearsigned,
			frags:   []string{"before"},
		},
		{
			name:    "text after the signature",
			data:    append(clearsignText(t, plain, signedAt, 0, good), []byte("Suite: evil\n")...),
			kr:      keyringOf(t, good),
			wantErr: ErrNotClearsigned,
			frags:   []string{"after"},
		},
		{
			name:  "signed but no SHA256",
			data:  clearsignText(t, strings.Replace(plain, "SHA256:", "MD5Sum:", 1), signedAt, 0, good),
			kr:    keyringOf(t, good),
			frags: []string{"no SHA256"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rel, err := VerifyInRelease(tc.data, tc.kr, t0)
			if tc.signer == nil {
				wantErr(t, err, tc.frags...)
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v is not %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rel.SignedBy != tc.signer.fingerprint() || rel.SignedByPrimary != tc.signer.fingerprint() {
				t.Errorf("SignedBy = %s/%s, want %s", rel.SignedBy, rel.SignedByPrimary, tc.signer.fingerprint())
			}
			if rel.Codename != "testy" || rel.Suite != "stable" || len(rel.Files) != 2 {
				t.Errorf("parsed %+v", rel)
			}
			if got := rel.Files["main/binary-amd64/Packages.xz"]; got != someFiles["main/binary-amd64/Packages.xz"] {
				t.Errorf("Files[Packages.xz] = %+v", got)
			}
			if len(rel.SHA256) != 64 {
				t.Errorf("SHA256 = %q", rel.SHA256)
			}
		})
	}
}

func TestVerifyInReleaseEmptyKeyring(t *testing.T) {
	_, err := VerifyInRelease([]byte("x"), &Keyring{}, t0)
	wantErr(t, err, "empty keyring")
}

// signedWith clearsigns text with k using digest h. go-crypto's signing
// API picks SHA-256 or better whatever it is asked, so the signature
// packet is made by hand, as an old archive tool (or someone holding a
// collision for a weak digest) would make it. go-crypto cannot compute
// MD5 or RIPEMD-160 signatures at all: for those the packet is signed
// with SHA-256 and its hash algorithm byte then changed, which gives the
// packet a real archive signed with them would have, but for its
// (unchecked) signature value.
func signedWith(t *testing.T, k *testKey, text string, when time.Time, h crypto.Hash) []byte {
	t.Helper()
	patch := map[crypto.Hash]byte{crypto.MD5: 1, crypto.RIPEMD160: 3}
	signHash := h
	if _, ok := patch[h]; ok {
		signHash = crypto.SHA256
	}
	priv := k.e.PrivateKey
	sig := &packet.Signature{
		Version: 4, SigType: packet.SigTypeText, PubKeyAlgo: priv.PubKeyAlgo, Hash: signHash,
		CreationTime: when, IssuerKeyId: &priv.KeyId,
	}
	d := signHash.New()
	// The clearsigned text is hashed with CRLF line ends, without the
	// final line end.
	d.Write([]byte(strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\r\n")))
	// No salt notation: go-crypto only knows salt sizes for strong digests.
	noSalt := false
	if err := sig.Sign(d, priv, &packet.Config{Time: func() time.Time { return when }, NonDeterministicSignaturesViaNotation: &noSalt}); err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := sig.Serialize(&raw); err != nil {
		t.Fatal(err)
	}
	if id, ok := patch[h]; ok {
		op, err := packet.NewOpaqueReader(bytes.NewReader(raw.Bytes())).Next()
		if err != nil {
			t.Fatal(err)
		}
		op.Contents[3] = id
		raw.Reset()
		if err := op.Serialize(&raw); err != nil {
			t.Fatal(err)
		}
	}
	name := map[crypto.Hash]string{crypto.MD5: "MD5", crypto.SHA1: "SHA1", crypto.RIPEMD160: "RIPEMD160",
		crypto.SHA224: "SHA224", crypto.SHA256: "SHA256", crypto.SHA512: "SHA512"}[h]
	var buf bytes.Buffer
	buf.WriteString("-----BEGIN PGP SIGNED MESSAGE-----\nHash: " + name + "\n\n" + text)
	w, err := armor.Encode(&buf, "PGP SIGNATURE", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw.Bytes())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// TestVerifyInReleaseWeakDigest signs with a trusted key but weak digests:
// go-crypto's VerifyDetachedSignature accepts SHA-1 and SHA-224
// signatures, apt refuses SHA-1 (and MD5 and RIPEMD-160, which go-crypto
// cannot even parse), and VerifyInRelease must refuse all four, saying
// which digest.
func TestVerifyInReleaseWeakDigest(t *testing.T) {
	good := newTestKey(t, "good", t0.Add(-48*time.Hour), 0)
	kr := keyringOf(t, good)
	signedAt := t0.Add(-time.Hour)
	plain := releaseText(signedAt, someFiles)
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA224, crypto.MD5, crypto.RIPEMD160} {
		t.Run(h.String(), func(t *testing.T) {
			_, err := VerifyInRelease(signedWith(t, good, plain, signedAt, h), kr, t0)
			wantErr(t, err, "InRelease for testy", "weak digest "+h.String())
			if !errors.Is(err, ErrWeakDigest) {
				t.Fatalf("error %v is not ErrWeakDigest", err)
			}
			if (h == crypto.SHA1 || h == crypto.SHA224) && !strings.Contains(err.Error(), good.fingerprint()) {
				t.Fatalf("error %v does not name the key", err)
			}
		})
	}
	// The same hand-made message with strong digests verifies: the
	// refusals above are about the digest, not the assembly.
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512} {
		t.Run(h.String(), func(t *testing.T) {
			rel, err := VerifyInRelease(signedWith(t, good, plain, signedAt, h), kr, t0)
			if err != nil {
				t.Fatal(err)
			}
			if rel.SignedBy != good.fingerprint() {
				t.Fatalf("SignedBy %s", rel.SignedBy)
			}
		})
	}
	// An RSA key, like Debian's archive keys, signing with SHA-1.
	t.Run("RSA SHA-1", func(t *testing.T) {
		cfg := &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048, Time: func() time.Time { return t0.Add(-48 * time.Hour) }}
		e, err := openpgp.NewEntity("rsa", "test", "rsa@example.org", cfg)
		if err != nil {
			t.Fatal(err)
		}
		rsaKey := &testKey{e: e}
		_, err = VerifyInRelease(signedWith(t, rsaKey, plain, signedAt, crypto.SHA1), keyringOf(t, rsaKey), t0)
		wantErr(t, err, "InRelease for testy", "weak digest SHA-1", rsaKey.fingerprint())
		if !errors.Is(err, ErrWeakDigest) {
			t.Fatalf("error %v is not ErrWeakDigest", err)
		}
	})
	// A weak signature does not hide a good one by another trusted key,
	// and is not enough alone.
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.MD5} {
		t.Run(h.String()+" and SHA-256 signatures", func(t *testing.T) {
			other := newTestKey(t, "other", t0.Add(-48*time.Hour), 0)
			weak := signedWith(t, good, plain, signedAt, h)
			strong := signedWith(t, other, plain, signedAt, crypto.SHA256)
			sigOf := func(b []byte) []byte {
				block := mustDecode(t, b)
				raw, err := io.ReadAll(block.ArmoredSignature.Body)
				if err != nil {
					t.Fatal(err)
				}
				return raw
			}
			var buf bytes.Buffer
			buf.Write(strong[:bytes.Index(strong, []byte("-----BEGIN PGP SIGNATURE-----"))])
			w, err := armor.Encode(&buf, "PGP SIGNATURE", nil)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(sigOf(weak))
			w.Write(sigOf(strong))
			w.Close()
			buf.WriteByte('\n')
			rel, err := VerifyInRelease(buf.Bytes(), keyringOf(t, good, other), t0)
			if err != nil {
				t.Fatal(err)
			}
			if rel.SignedBy != other.fingerprint() {
				t.Fatalf("SignedBy %s, want the SHA-256 signer %s", rel.SignedBy, other.fingerprint())
			}
			_, err = VerifyInRelease(buf.Bytes(), keyringOf(t, good), t0)
			wantErr(t, err, "weak digest "+h.String(), "not in keyring")
			if !errors.Is(err, ErrWeakDigest) {
				t.Fatalf("error %v is not ErrWeakDigest", err)
			}
		})
	}
}

func mustDecode(t *testing.T, data []byte) *clearsign.Block {
	t.Helper()
	b, _ := clearsign.Decode(data)
	if b == nil {
		t.Fatal("not clearsigned")
	}
	return b
}
