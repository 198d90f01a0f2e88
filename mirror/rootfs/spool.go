package rootfs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// spool keeps the contents of every regular file read from the packages in
// one temporary file, so that composing a root of any size needs memory
// only for metadata. Packages are read concurrently: each file reserves
// its byte range up front and is written there with pwrite.
type spool struct {
	f   *os.File
	end atomic.Int64
}

// blob is one file's content in the spool. Hard links within a package
// share the same *blob: pointer identity is inode identity.
type blob struct {
	off, size int64
}

// newSpool creates an already-unlinked spool file in dir ("" means the
// system temporary directory), so nothing is left behind whatever happens.
func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "debroot-spool-*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return &spool{f: f}, nil
}

func (s *spool) Close() error { return s.f.Close() }

// store copies exactly size bytes from r into the spool.
func (s *spool) store(r io.Reader, size int64) (*blob, error) {
	b := &blob{off: s.end.Add(size) - size, size: size}
	n, err := io.Copy(io.NewOffsetWriter(s.f, b.off), io.LimitReader(r, size))
	if err != nil {
		return nil, err
	}
	if n != size {
		return nil, fmt.Errorf("file is %d bytes long, header says %d", n, size)
	}
	return b, nil
}

// reader returns b's content.
func (s *spool) reader(b *blob) io.Reader {
	return io.NewSectionReader(s.f, b.off, b.size)
}

// equal reports whether two blobs hold the same bytes.
func (s *spool) equal(a, b *blob) (bool, error) {
	if a == b {
		return true, nil
	}
	if a.size != b.size {
		return false, nil
	}
	const chunk = 1 << 16
	ba, bb := make([]byte, chunk), make([]byte, chunk)
	for off := int64(0); off < a.size; off += chunk {
		n := min(chunk, a.size-off)
		if _, err := s.f.ReadAt(ba[:n], a.off+off); err != nil {
			return false, err
		}
		if _, err := s.f.ReadAt(bb[:n], b.off+off); err != nil {
			return false, err
		}
		if !bytes.Equal(ba[:n], bb[:n]) {
			return false, nil
		}
	}
	return true, nil
}

// read returns b's content in memory; for the small files debroot needs
// to look at (passwd.master...).
func (s *spool) read(b *blob) ([]byte, error) {
	buf := make([]byte, b.size)
	_, err := s.f.ReadAt(buf, b.off)
	return buf, err
}
