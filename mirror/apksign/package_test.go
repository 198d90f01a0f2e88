package apksign

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkRepoPackages verifies every .apk in repo against the repo's own
// signed index.
func checkRepoPackages(t *testing.T, repo string, want int) {
	keys := alpineKeys(t)
	idx, err := VerifyIndex(readAlpine(t, repo+"/APKINDEX.tar.gz"), keys)
	if err != nil {
		t.Fatal(err)
	}
	entries := parseIndex(t, idx.APKINDEX)
	files, err := filepath.Glob(filepath.Join(alpinePath(t, repo), "*.apk"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != want {
		t.Fatalf("%d packages in %s, want %d", len(files), repo, want)
	}
	for _, f := range files {
		e, ok := entries[strings.TrimSuffix(filepath.Base(f), ".apk")]
		if !ok {
			t.Errorf("%s: not in index", f)
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		info, err := VerifyPackage(fh, keys, e.checksum)
		fh.Close()
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if info.Checksum != e.checksum {
			t.Errorf("%s: checksum %s, index %s", f, info.Checksum, e.checksum)
		}
		if got := info.Fields["pkgname"]; len(got) != 1 || got[0] != e.name {
			t.Errorf("%s: pkgname %q, want %s", f, got, e.name)
		}
		if got := info.Fields["pkgver"]; len(got) != 1 || got[0] != e.version {
			t.Errorf("%s: pkgver %q, want %s", f, got, e.version)
		}
		if info.KeyName == "" || info.Algorithm != "RSA" {
			t.Errorf("%s: signed by %q/%q", f, info.KeyName, info.Algorithm)
		}
	}
}

func TestVerifyPackageRealMain(t *testing.T) {
	checkRepoPackages(t, "v3.19/main/x86_64", 168)
}

func TestVerifyPackageRealCommunity(t *testing.T) {
	checkRepoPackages(t, "v3.19/community/x86_64", 8)
}

func TestVerifyPackageRealISO(t *testing.T) {
	checkRepoPackages(t, "iso-3.19.1/x86_64", 100)
}

const muslAPK = "v3.19/main/x86_64/musl-1.2.4_git20230717-r4.apk"

// verifiedMusl returns muslAPK and what VerifyPackage makes of it.
func verifiedMusl(t *testing.T) ([]byte, *PackageInfo) {
	t.Helper()
	data := readAlpine(t, muslAPK)
	info, err := VerifyPackage(bytes.NewReader(data), alpineKeys(t), "")
	if err != nil {
		t.Fatal(err)
	}
	return data, info
}

func TestVerifyPackageFields(t *testing.T) {
	_, info := verifiedMusl(t)
	for k, want := range map[string]string{
		"pkgname":  "musl",
		"pkgver":   "1.2.4_git20230717-r4",
		"arch":     "x86_64",
		"provides": "so:libc.musl-x86_64.so.1=1",
		"license":  "MIT",
	} {
		if got := info.Fields[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if info.KeyName != key6165ee59 {
		t.Errorf("signed by %s", info.KeyName)
	}
}

func TestPackageChecksum(t *testing.T) {
	data, info := verifiedMusl(t)
	sum, err := PackageChecksum(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if sum != info.Checksum {
		t.Fatalf("PackageChecksum %s, VerifyPackage %s", sum, info.Checksum)
	}
	// An unsigned package (signature member stripped) has the same identity.
	unsigned, err := PackageChecksum(bytes.NewReader(data[memberBounds(t, data)[0]:]))
	if err != nil || unsigned != sum {
		t.Fatalf("unsigned package checksum %s, %v; want %s", unsigned, err, sum)
	}
	if _, err := PackageChecksum(bytes.NewReader(data[:100])); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated package: %v", err)
	}
}

func TestVerifyPackageRefusals(t *testing.T) {
	keys := alpineKeys(t)
	// busybox: the control member is large enough to tamper with mid-stream.
	real, ends := readAlpineMembers(t, "iso-3.19.1/x86_64/busybox-1.36.1-r15.apk", 3)
	sigEnd, ctlEnd := ends[0], ends[1]
	want, err := PackageChecksum(bytes.NewReader(real))
	if err != nil {
		t.Fatal(err)
	}
	others := subset(keys, func(n string) bool { return n == key616ae350 })

	for _, tc := range []struct {
		name     string
		data     []byte
		keys     *Keyring
		checksum string
		err      error
		msg      string
	}{
		{"byte in control member", flipByte(real, (sigEnd+ctlEnd)/2), keys, want, ErrBadSignature, "does not match"},
		{"byte in control gzip header", flipByte(real, sigEnd+4), keys, "", ErrBadSignature, "does not match"},
		{"byte in data member", flipByte(real, (ctlEnd+len(real))/2), keys, want, ErrChecksum, "datahash"},
		{"last byte of data", flipByte(real, len(real)-1), keys, want, ErrChecksum, "datahash"},
		{"checksum mismatch", real, keys, "Q1" + strings.Repeat("A", 27) + "=", ErrChecksum, "index says"},
		{"untrusted key", real, others, "", ErrUntrusted, "signed by key " + key6165ee59 + " which is not trusted"},
		{"unsigned", real[sigEnd:], keys, "", ErrUnsigned, "no .SIGN"},
		{"truncated in data", real[:len(real)-100], keys, want, ErrTruncated, "truncated"},
		{"truncated after control", real[:ctlEnd], keys, want, ErrTruncated, "no data member"},
		{"truncated in control", real[:ctlEnd-10], keys, want, ErrTruncated, "truncated"},
		{"truncated after signature", real[:sigEnd], keys, want, ErrTruncated, "no control member"},
		{"two signature members", append(bytes.Clone(real[:sigEnd]), real...), keys, "", ErrMalformed, "more than one signature"},
		{"trailing garbage", append(bytes.Clone(real), "junk"...), keys, want, ErrChecksum, "datahash"},
		{"extra data member", append(bytes.Clone(real), real[ctlEnd:]...), keys, want, ErrChecksum, "datahash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyPackage(bytes.NewReader(tc.data), tc.keys, tc.checksum)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %q, want %v mentioning %q", err, tc.err, tc.msg)
			}
			t.Log(err)
		})
	}
}
