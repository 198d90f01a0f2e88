package apksign

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
)

const (
	maxIndexSize       = 512 << 20 // decompressed APKINDEX; real ones are ~10 MiB
	maxDescriptionSize = 64 << 10
)

// SignedIndex is the verified content of an APKINDEX.tar.gz.
type SignedIndex struct {
	APKINDEX    []byte
	Description string
	KeyName     string // file name of the key that signed it
	Algorithm   string // "RSA" (SHA-1), "RSA256" or "RSA512"
}

// VerifyIndex checks that data is an APKINDEX.tar.gz signed by a key in keys
// and returns its content. Anything apk-tools would not see as covered by the
// signature is refused: trailing bytes, a second signature member, no
// signature at all.
func VerifyIndex(data []byte, keys *Keyring) (*SignedIndex, error) {
	idx, err := verifyIndex(data, keys)
	if err != nil {
		return nil, fmt.Errorf("apksign: index: %w", err)
	}
	return idx, nil
}

func verifyIndex(data []byte, keys *Keyring) (*SignedIndex, error) {
	m := newMemberReaderBytes(data)
	v, err := readSignatures(m, keys)
	if err != nil {
		return nil, err
	}
	m.setHash(v.writer())
	idx, err := readIndexMember(m)
	if err != nil {
		return nil, errBoth(v, m, err)
	}
	m.setHash(nil)
	if eof, err := m.atEOF(); err != nil || !eof {
		return nil, fmt.Errorf("%w: trailing data after the signed index", ErrMalformed)
	}
	if idx.KeyName, idx.Algorithm, err = v.verify(); err != nil {
		return nil, err
	}
	return idx, nil
}

// readIndexMember reads the signed member holding DESCRIPTION and APKINDEX.
func readIndexMember(m *memberReader) (*SignedIndex, error) {
	idx := &SignedIndex{}
	var haveIndex, haveDesc bool
	err := walkMember(m, "index member", "signature is not followed by an index", func(tr *tar.Reader, hdr *tar.Header) error {
		var err error
		switch hdr.Name {
		case "APKINDEX":
			if haveIndex {
				return fmt.Errorf("%w: duplicate APKINDEX entry", ErrMalformed)
			}
			haveIndex = true
			idx.APKINDEX, err = readEntry(tr, hdr, maxIndexSize)
		case "DESCRIPTION":
			if haveDesc {
				return fmt.Errorf("%w: duplicate DESCRIPTION entry", ErrMalformed)
			}
			haveDesc = true
			var desc []byte
			desc, err = readEntry(tr, hdr, maxDescriptionSize)
			idx.Description = string(desc)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !haveIndex {
		return nil, fmt.Errorf("%w: no APKINDEX entry", ErrMalformed)
	}
	return idx, nil
}

// walkMember reads the next gzip member of m as a tar stream: the first
// entry must not be a signature, fn sees every entry in order and the
// member must end cleanly. missing says what is absent when there is no
// member left; what names the member in errors.
func walkMember(m *memberReader, what, missing string, fn func(*tar.Reader, *tar.Header) error) error {
	content, err := m.next()
	if err == io.EOF {
		return truncated(missing)
	}
	if err != nil {
		return malformed(what, err)
	}
	first := true
	err = eachEntry(content, what, func(tr *tar.Reader, hdr *tar.Header) error {
		if first {
			first = false
			if err := checkNotSignature(hdr.Name); err != nil {
				return err
			}
		}
		return fn(tr, hdr)
	})
	if err != nil {
		return err
	}
	if err := m.finish(); err != nil {
		return malformed(what, err)
	}
	return nil
}

// readEntry reads a regular tar entry of at most limit bytes.
func readEntry(tr *tar.Reader, hdr *tar.Header, limit int64) ([]byte, error) {
	if hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrMalformed, hdr.Name)
	}
	if hdr.Size < 0 || hdr.Size > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrMalformed, hdr.Name, hdr.Size, limit)
	}
	// Size the buffer from the header, but no more than a real index
	// needs up front: a forged header cannot make us allocate the limit.
	var buf bytes.Buffer
	buf.Grow(int(min(hdr.Size, 32<<20)) + bytes.MinRead)
	if _, err := buf.ReadFrom(tr); err != nil {
		return nil, malformed(hdr.Name, err)
	}
	return buf.Bytes(), nil
}
