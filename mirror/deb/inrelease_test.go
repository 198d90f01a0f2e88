package deb

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
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
