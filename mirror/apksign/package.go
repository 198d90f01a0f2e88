package apksign

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

const maxPkginfoSize = 4 << 20

// PackageInfo is what VerifyPackage learned from a verified .apk.
type PackageInfo struct {
	Checksum  string // "Q1" + base64(SHA-1 of the control member), the index's C:
	KeyName   string // file name of the key that signed it
	Algorithm string // "RSA" (SHA-1), "RSA256" or "RSA512"
	// Fields holds .PKGINFO as key -> values in file order (depend,
	// provides and others repeat).
	Fields map[string][]string
}

// VerifyPackage checks a .apk: the signature over its control member, the
// control member's Q1 checksum against wantChecksum (skipped if empty) and
// the data member against the signed datahash. The whole input is read.
func VerifyPackage(r io.Reader, keys *Keyring, wantChecksum string) (*PackageInfo, error) {
	info, err := verifyPackage(r, keys, wantChecksum)
	if err != nil {
		return nil, fmt.Errorf("apksign: package: %w", err)
	}
	return info, nil
}

func verifyPackage(r io.Reader, keys *Keyring, wantChecksum string) (*PackageInfo, error) {
	m := newMemberReader(r)
	v, err := readSignatures(m, keys)
	if err != nil {
		return nil, err
	}
	q1 := sha1.New()
	m.setHash(io.MultiWriter(v.writer(), q1))
	fields, err := readControlMember(m)
	if err != nil {
		return nil, errBoth(v, m, err)
	}
	m.setHash(nil)
	info := &PackageInfo{Checksum: q1Checksum(q1.Sum(nil)), Fields: fields}
	if info.KeyName, info.Algorithm, err = v.verify(); err != nil {
		return nil, err
	}
	if wantChecksum != "" && wantChecksum != info.Checksum {
		return nil, fmt.Errorf("%w: control checksum is %s, index says %s", ErrChecksum, info.Checksum, wantChecksum)
	}
	if err := checkData(m, fields); err != nil {
		return nil, err
	}
	return info, nil
}

// PackageChecksum returns the Q1 checksum of a .apk (signed or not) without
// verifying anything. It reads only up to the end of the control member.
func PackageChecksum(r io.Reader) (string, error) {
	m := newMemberReader(r)
	q1 := sha1.New()
	m.setHash(q1)
	_, signed, err := readSigMember(m)
	if err != nil {
		return "", fmt.Errorf("apksign: package checksum: %w", err)
	}
	if signed {
		// The first member was the signature; the control member follows.
		m.setHash(nil)
		q1.Reset()
		m.setHash(q1)
		if _, err := readControlMember(m); err != nil {
			return "", fmt.Errorf("apksign: package checksum: %w", err)
		}
	}
	m.setHash(nil)
	return q1Checksum(q1.Sum(nil)), nil
}

func q1Checksum(sum []byte) string {
	return "Q1" + base64.StdEncoding.EncodeToString(sum)
}

// readControlMember reads the control member and returns its .PKGINFO.
func readControlMember(m *memberReader) (map[string][]string, error) {
	var fields map[string][]string
	err := walkMember(m, "control member", "no control member", func(tr *tar.Reader, hdr *tar.Header) error {
		// apk-tools takes the first non-dot entry as the start of the data,
		// which datahash would then not cover.
		if !strings.HasPrefix(hdr.Name, ".") || strings.Contains(hdr.Name, "/") {
			return fmt.Errorf("%w: control member holds non-control entry %q", ErrMalformed, hdr.Name)
		}
		if hdr.Name != ".PKGINFO" {
			return nil
		}
		if fields != nil {
			return fmt.Errorf("%w: duplicate .PKGINFO", ErrMalformed)
		}
		b, err := readEntry(tr, hdr, maxPkginfoSize)
		if err != nil {
			return err
		}
		fields = ParsePkginfo(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if fields == nil {
		return nil, fmt.Errorf("%w: control member has no .PKGINFO", ErrMalformed)
	}
	return fields, nil
}

// checkData hashes every remaining member (apk-tools' datahash covers all
// bytes after the control member) and compares with .PKGINFO's datahash.
// Members are decompressed too, so corruption is caught even before the
// hash comparison and a truncated download is named as such.
func checkData(m *memberReader, fields map[string][]string) error {
	want := fields["datahash"]
	if len(want) != 1 {
		return fmt.Errorf("%w: .PKGINFO has %d datahash fields, want 1: the data is not covered by the signature", ErrMalformed, len(want))
	}
	wantSum, err := hex.DecodeString(want[0])
	if err != nil || len(wantSum) != sha256.Size {
		return fmt.Errorf("%w: datahash %q is not a hex SHA-256", ErrMalformed, want[0])
	}
	h := sha256.New()
	m.setHash(h)
	decodeErr := readDataMembers(m)
	if errors.Is(decodeErr, ErrTruncated) {
		return decodeErr
	}
	if decodeErr != nil {
		if err := m.drain(); err != nil {
			return malformed("data member", err)
		}
	}
	m.setHash(nil)
	if got := h.Sum(nil); !bytes.Equal(got, wantSum) {
		if decodeErr != nil {
			return fmt.Errorf("%w: data does not match datahash %s (and does not decode: %v)", ErrChecksum, want[0], decodeErr)
		}
		return fmt.Errorf("%w: data is sha256 %x, .PKGINFO datahash is %s", ErrChecksum, got, want[0])
	}
	return decodeErr
}

func readDataMembers(m *memberReader) error {
	for n := 0; ; n++ {
		content, err := m.next()
		if err == io.EOF {
			if n == 0 {
				return truncated("no data member")
			}
			return nil
		}
		if err != nil && n > 0 {
			return fmt.Errorf("%w: trailing data after the data member", ErrMalformed)
		}
		if err != nil {
			return malformed("data member", err)
		}
		if _, err := io.Copy(io.Discard, content); err != nil {
			return malformed("data member", err)
		}
	}
}

// ParsePkginfo parses .PKGINFO's "key = value" lines; comments and lines
// without " = " are skipped. Repeated keys keep their order.
func ParsePkginfo(b []byte) map[string][]string {
	fields := make(map[string][]string)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxPkginfoSize)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		fields[k] = append(fields[k], strings.TrimSpace(v))
	}
	return fields
}
