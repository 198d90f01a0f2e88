package apksign

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// memberReader walks the gzip members of an apk file one at a time.
//
// Signatures and checksums cover the compressed bytes of a member, so every
// byte the decompressor consumes is copied into the current hash. The
// decompressor is fed through ReadByte, which compress/flate promises never to
// read past the end of the deflate data, so member boundaries are exact.
type memberReader struct {
	r       *bufio.Reader
	hash    io.Writer // receives consumed bytes; nil discards them
	pending []byte    // consumed bytes not yet written to hash (batched for speed)
	zr      *gzip.Reader

	// For input already in memory (indexes), bytes are read straight from
	// data and hashed as slices of it: no copying per byte.
	inMem          bool
	data           []byte
	off, hashStart int
}

func newMemberReader(r io.Reader) *memberReader {
	return &memberReader{r: bufio.NewReaderSize(r, 64<<10), pending: make([]byte, 0, 32<<10)}
}

func newMemberReaderBytes(data []byte) *memberReader {
	return &memberReader{inMem: true, data: data}
}

// setHash flushes what was consumed so far into the old hash and directs
// further bytes into w (nil: discard).
func (m *memberReader) setHash(w io.Writer) {
	m.flush()
	m.hash = w
}

func (m *memberReader) flush() {
	if m.inMem {
		if m.hash != nil && m.off > m.hashStart {
			m.hash.Write(m.data[m.hashStart:m.off])
		}
		m.hashStart = m.off
		return
	}
	if m.hash != nil && len(m.pending) > 0 {
		m.hash.Write(m.pending) // hash writers never fail
	}
	m.pending = m.pending[:0]
}

func (m *memberReader) record(p []byte) {
	if m.hash == nil {
		return
	}
	if len(m.pending)+len(p) > cap(m.pending) {
		m.flush()
		if len(p) > cap(m.pending) {
			m.hash.Write(p)
			return
		}
	}
	m.pending = append(m.pending, p...)
}

func (m *memberReader) Read(p []byte) (int, error) {
	if m.inMem {
		if m.off >= len(m.data) {
			return 0, io.EOF
		}
		n := copy(p, m.data[m.off:])
		m.off += n
		return n, nil
	}
	n, err := m.r.Read(p)
	m.record(p[:n])
	return n, err
}

func (m *memberReader) ReadByte() (byte, error) {
	if m.inMem {
		if m.off >= len(m.data) {
			return 0, io.EOF
		}
		m.off++
		return m.data[m.off-1], nil
	}
	b, err := m.r.ReadByte()
	if err == nil {
		if m.hash != nil {
			if len(m.pending) == cap(m.pending) {
				m.flush()
			}
			m.pending = append(m.pending, b)
		}
	}
	return b, err
}

// atEOF reports whether the input is exhausted.
func (m *memberReader) atEOF() (bool, error) {
	if m.inMem {
		return m.off >= len(m.data), nil
	}
	_, err := m.r.Peek(1)
	if err == io.EOF {
		return true, nil
	}
	return false, err
}

// next opens the following member and returns its decompressed content.
// It returns io.EOF when no input is left.
func (m *memberReader) next() (io.Reader, error) {
	if eof, err := m.atEOF(); err != nil || eof {
		if err == nil {
			err = io.EOF
		}
		return nil, err
	}
	var err error
	if m.zr == nil {
		m.zr, err = gzip.NewReader(m)
	} else {
		err = m.zr.Reset(m)
	}
	if err != nil {
		return nil, err
	}
	// Reset re-enables multistream; we must stop at each member boundary.
	m.zr.Multistream(false)
	return m.zr, nil
}

// finish reads the rest of the current member so that its trailer (CRC and
// length) is checked and all of its bytes are hashed.
func (m *memberReader) finish() error {
	_, err := io.Copy(io.Discard, m.zr)
	return err
}

// drain hashes all remaining input. After a decode failure it lets the caller
// still check the signature over the rest, so tampering is reported as such
// rather than as a decompression error.
func (m *memberReader) drain() error {
	_, err := io.Copy(io.Discard, struct{ io.Reader }{m})
	return err
}

// eachEntry calls fn for every entry of the tar stream r, stopping at the
// first error; a stream that fails to decode is malformed(what).
func eachEntry(r io.Reader, what string, fn func(*tar.Reader, *tar.Header) error) error {
	tr := tar.NewReader(r)
	for hdr, err := tr.Next(); err != io.EOF; hdr, err = tr.Next() {
		if err != nil {
			return malformed(what, err)
		}
		if err := fn(tr, hdr); err != nil {
			return err
		}
	}
	return nil
}

// malformed wraps a decoding error of part what with ErrMalformed, naming
// truncation explicitly because it is the common case for partial downloads.
func malformed(what string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return truncated(what)
	}
	return corruptError{fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)}
}

// corruptError marks bytes that fail to decode, as opposed to a well-formed
// but disallowed structure: only the former can be the visible effect of
// tampering with signed bytes.
type corruptError struct{ error }

func (e corruptError) Unwrap() error { return e.error }

func truncated(what string) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, ErrTruncated)
}
