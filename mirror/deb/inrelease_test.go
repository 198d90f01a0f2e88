package deb

import (
	"bytes"
	"crypto"
	"errors"
	"strings"
	"testing"
	"time"
)

var someFiles = map[string]FileHash{
	"main/binary-amd64/Packages.xz": {SHA256: strings.Repeat("ab", 32), Size: 1234},
	"main/binary-amd64/Packages":    {SHA256: strings.Repeat("cd", 32), Size: 5678},
}

// synthetic holds the archive keys of the synthetic InRelease tests and
// the Release text they sign.
type synthetic struct {
	good, other, expiring, revoked *testKey
	signedAt                       time.Time
	plain                          string // Release dated signedAt
}

func newSynthetic(t *testing.T) synthetic {
	signedAt := t0.Add(-time.Hour)
	s := synthetic{
		good:  newTestKey(t, "good", t0.Add(-48*time.Hour), 0),
		other: newTestKey(t, "other", t0.Add(-48*time.Hour), 0),
		// Valid for 10 days from its creation, 20 days before t0.
		expiring: newTestKey(t, "expiring", t0.Add(-20*24*time.Hour), 10*24*time.Hour),
		revoked:  newTestKey(t, "revoked", t0.Add(-48*time.Hour), 0),
		signedAt: signedAt,
		plain:    releaseText(signedAt, someFiles),
	}
	s.revoked.revoke(t, t0.Add(-time.Hour))
	return s
}

// inReleaseCase is a synthetic InRelease and what VerifyInRelease must
// make of it with keyring kr at t0.
type inReleaseCase struct {
	name    string
	data    []byte
	kr      *Keyring
	signer  *testKey // accepted, signed by signer; nil: refused
	wantErr error    // when refused, if not nil: what the error must wrap
	frags   []string // when refused: must appear in the error
}

func acceptedInReleases(t *testing.T, s synthetic) []inReleaseCase {
	return []inReleaseCase{
		{name: "good", data: clearsignText(t, s.plain, s.signedAt, 0, s.good), kr: keyringOf(t, s.good), signer: s.good},
		{
			name:   "unknown first, good second",
			data:   clearsignText(t, s.plain, s.signedAt, 0, s.other, s.good),
			kr:     keyringOf(t, s.good),
			signer: s.good,
		},
		{
			name:   "expired key first, good second",
			data:   clearsignText(t, s.plain, t0.Add(-11*24*time.Hour), 0, s.expiring, s.good),
			kr:     keyringOf(t, s.expiring, s.good),
			signer: s.good,
		},
		{
			name:   "Valid-Until in the future",
			data:   clearsignText(t, releaseText(s.signedAt, someFiles, "Valid-Until: "+t0.Add(time.Hour).Format(time.RFC1123)), s.signedAt, 0, s.good),
			kr:     keyringOf(t, s.good),
			signer: s.good,
		},
		{
			// Clocks drift: a Release (and signature) a minute "from the
			// future" is accepted.
			name:   "Date within skew",
			data:   clearsignText(t, releaseText(t0.Add(time.Minute), someFiles), t0.Add(time.Minute), 0, s.good),
			kr:     keyringOf(t, s.good),
			signer: s.good,
		},
	}
}

func refusedInReleases(t *testing.T, s synthetic) []inReleaseCase {
	return []inReleaseCase{
		{
			name:    "unknown key only",
			data:    clearsignText(t, s.plain, s.signedAt, 0, s.other),
			kr:      keyringOf(t, s.good),
			wantErr: ErrUnknownKey,
			frags:   []string{"testy", s.other.fingerprint(), "not in keyring"},
		},
		{
			name:    "tampered",
			data:    bytes.Replace(clearsignText(t, s.plain, s.signedAt, 0, s.good), []byte("abab"), []byte("abac"), 1),
			kr:      keyringOf(t, s.good),
			wantErr: ErrBadSignature,
			frags:   []string{"testy", s.good.fingerprint(), "bad signature"},
		},
		{
			name:    "key expired",
			data:    clearsignText(t, releaseText(t0.Add(-11*24*time.Hour), someFiles), t0.Add(-11*24*time.Hour), 0, s.expiring),
			kr:      keyringOf(t, s.expiring),
			wantErr: ErrKeyExpired,
			frags:   []string{s.expiring.fingerprint(), "key expired"},
		},
		{
			name:    "key revoked",
			data:    clearsignText(t, s.plain, s.signedAt.Add(-time.Hour), 0, s.revoked),
			kr:      keyringOf(t, s.revoked),
			wantErr: ErrKeyRevoked,
			frags:   []string{s.revoked.fingerprint(), "revoked"},
		},
		{
			name:    "signature expired",
			data:    clearsignText(t, releaseText(t0.Add(-3*time.Hour), someFiles), t0.Add(-3*time.Hour), time.Hour, s.good),
			kr:      keyringOf(t, s.good),
			wantErr: ErrSignatureExpired,
			frags:   []string{"signature expired"},
		},
		{
			name:    "Valid-Until in the past",
			data:    clearsignText(t, releaseText(s.signedAt, someFiles, "Valid-Until: "+t0.Add(-time.Minute).Format(time.RFC1123)), s.signedAt, 0, s.good),
			kr:      keyringOf(t, s.good),
			wantErr: ErrReleaseExpired,
			frags:   []string{"testy", "Valid-Until 2026-03-01T11:59:00Z"},
		},
		{
			name:    "Date an hour ahead",
			data:    clearsignText(t, releaseText(t0.Add(time.Hour), someFiles), s.signedAt, 0, s.good),
			kr:      keyringOf(t, s.good),
			wantErr: ErrNotYetValid,
			frags:   []string{"testy", "Date 2026-03-01T13:00:00Z"},
		},
		{
			name:    "unsigned",
			data:    []byte(s.plain),
			kr:      keyringOf(t, s.good),
			wantErr: ErrNotClearsigned,
			frags:   []string{"unsigned"},
		},
		{
			name:    "text before the signed message",
			data:    append([]byte("Suite: evil\n\n"), clearsignText(t, s.plain, s.signedAt, 0, s.good)...),
			kr:      keyringOf(t, s.good),
			wantErr: ErrNotClearsigned,
			frags:   []string{"before"},
		},
		{
			name:    "text after the signature",
			data:    append(clearsignText(t, s.plain, s.signedAt, 0, s.good), []byte("Suite: evil\n")...),
			kr:      keyringOf(t, s.good),
			wantErr: ErrNotClearsigned,
			frags:   []string{"after"},
		},
		{
			name:  "signed but no SHA256",
			data:  clearsignText(t, strings.Replace(s.plain, "SHA256:", "MD5Sum:", 1), s.signedAt, 0, s.good),
			kr:    keyringOf(t, s.good),
			frags: []string{"no SHA256"},
		},
	}
}

func TestVerifyInReleaseSynthetic(t *testing.T) {
	s := newSynthetic(t)
	for _, tc := range append(acceptedInReleases(t, s), refusedInReleases(t, s)...) {
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
			wantErrIs(t, err, ErrWeakDigest, "InRelease for testy", "weak digest "+h.String())
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
		rsaKey := newRSATestKey(t, "rsa", t0.Add(-48*time.Hour))
		_, err := VerifyInRelease(signedWith(t, rsaKey, plain, signedAt, crypto.SHA1), keyringOf(t, rsaKey), t0)
		wantErrIs(t, err, ErrWeakDigest, "InRelease for testy", "weak digest SHA-1", rsaKey.fingerprint())
	})
	// A weak signature does not hide a good one by another trusted key,
	// and is not enough alone.
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.MD5} {
		t.Run(h.String()+" and SHA-256 signatures", func(t *testing.T) {
			other := newTestKey(t, "other", t0.Add(-48*time.Hour), 0)
			weak := signedWith(t, good, plain, signedAt, h)
			strong := signedWith(t, other, plain, signedAt, crypto.SHA256)
			both := withSignaturesOf(t, strong, weak, strong)
			rel, err := VerifyInRelease(both, keyringOf(t, good, other), t0)
			if err != nil {
				t.Fatal(err)
			}
			if rel.SignedBy != other.fingerprint() {
				t.Fatalf("SignedBy %s, want the SHA-256 signer %s", rel.SignedBy, other.fingerprint())
			}
			_, err = VerifyInRelease(both, keyringOf(t, good), t0)
			wantErrIs(t, err, ErrWeakDigest, "weak digest "+h.String(), "not in keyring")
		})
	}
}
