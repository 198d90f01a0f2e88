package apksign

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestVerifyIndexReal(t *testing.T) {
	keys := alpineKeys(t)
	for _, tc := range []struct {
		repo     string
		key      string
		packages int
		desc     string
	}{
		{"v3.19/main/x86_64", key6165ee59, 5443, "v3.19.1-643-gec825d20535"},
		{"v3.19/community/x86_64", key6165ee59, 17587, "v3.19.1-642-g9e5b575ce97"},
		{"v3.16/main/x86_64", key6165ee59, 4929, "v3.16.3-13-g4d933a1fa3"},
		{"v3.17/main/aarch64", key616ae350, 5004, "v3.17.3-216-g54a39ace82a"},
		{"iso-3.19.1/x86_64", key6165ee59, 100, "3.19.1"},
	} {
		t.Run(tc.repo, func(t *testing.T) {
			idx, err := VerifyIndex(readAlpine(t, tc.repo+"/APKINDEX.tar.gz"), keys)
			if err != nil {
				t.Fatal(err)
			}
			if idx.KeyName != tc.key || idx.Algorithm != "RSA" {
				t.Errorf("signed by %s/%s, want %s/RSA", idx.KeyName, idx.Algorithm, tc.key)
			}
			if n := countLines(idx.APKINDEX, "P:"); n != tc.packages {
				t.Errorf("%d P: lines, want %d", n, tc.packages)
			}
			if idx.Description != tc.desc {
				t.Errorf("description %q, want %q", idx.Description, tc.desc)
			}
		})
	}
}

// rebuildFirstMember recompresses the signature member after edit, so a
// change inside the signature reaches the verifier instead of failing gzip.
func rebuildFirstMember(t *testing.T, data []byte, edit func([]byte)) []byte {
	t.Helper()
	end := memberBounds(t, data)[0]
	zr, err := gzip.NewReader(bytes.NewReader(data[:end]))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	edit(plain)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(plain)
	zw.Close()
	return append(out.Bytes(), data[end:]...)
}

func TestVerifyIndexRefusals(t *testing.T) {
	keys := alpineKeys(t)
	real, ends := readAlpineMembers(t, "v3.19/main/x86_64/APKINDEX.tar.gz", 2)
	sigEnd := ends[0]

	withoutKey := subset(keys, func(n string) bool { return n != key6165ee59 })

	for _, tc := range []struct {
		name string
		data []byte
		keys *Keyring
		want error
		msg  string
	}{
		{"byte in index data", flipByte(real, sigEnd+(len(real)-sigEnd)/2), keys, ErrBadSignature, "does not match"},
		{"byte in index gzip header", flipByte(real, sigEnd+4), keys, ErrBadSignature, "does not match"},
		{"byte in gzip trailer", flipByte(real, len(real)-3), keys, ErrBadSignature, "does not match"},
		{"compressed byte in signature member", flipByte(real, sigEnd/2), keys, ErrMalformed, "signature"},
		{"byte in signature", rebuildFirstMember(t, real, func(p []byte) { p[512+100] ^= 1 }), keys, ErrBadSignature, key6165ee59},
		{"key not in keyring", real, withoutKey, ErrUntrusted, "signed by key " + key6165ee59 + " which is not trusted"},
		{"empty keyring", real, NewKeyring(), ErrUntrusted, key6165ee59},
		{"unsigned", real[sigEnd:], keys, ErrUnsigned, "no .SIGN"},
		{"signature only", real[:sigEnd], keys, ErrTruncated, "truncated"},
		{"truncated by one byte", real[:len(real)-1], keys, ErrTruncated, "truncated"},
		{"truncated halfway", real[:len(real)/2], keys, ErrTruncated, "truncated"},
		{"truncated in signature", real[:sigEnd-10], keys, ErrTruncated, "truncated"},
		{"empty", nil, keys, ErrMalformed, "empty"},
		{"trailing garbage", append(bytes.Clone(real), "junk"...), keys, ErrMalformed, "trailing"},
		{"trailing zero", append(bytes.Clone(real), 0), keys, ErrMalformed, "trailing"},
		{"trailing gzip member", append(bytes.Clone(real), real[sigEnd:]...), keys, ErrMalformed, "trailing"},
		{"two signature members", append(bytes.Clone(real[:sigEnd]), real...), keys, ErrMalformed, "more than one signature"},
		{"not gzip", []byte("P:musl\nV:1\n\n"), keys, ErrMalformed, "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := VerifyIndex(tc.data, tc.keys)
			if err == nil {
				t.Fatalf("accepted (signed by %s)", idx.KeyName)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %q, want %v mentioning %q", err, tc.want, tc.msg)
			}
			t.Log(err)
		})
	}
}
