package download

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// check verifies the file at path: size, SHA-256, then Verify.
func (r *Request) check(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	var w io.Writer = io.Discard
	if r.SHA256 != "" {
		w = h
	}
	n, err := io.Copy(w, io.LimitReader(f, r.limit()+1))
	if err != nil {
		return err
	}
	if err := r.checkSize(r.realSize(f, path, n)); err != nil {
		return err
	}
	if r.SHA256 != "" {
		if got := hex.EncodeToString(h.Sum(nil)); got != r.SHA256 {
			return fmt.Errorf("%w: sha256: expected %s, got %s", ErrMismatch, r.SHA256, got)
		}
	}
	if r.Verify != nil {
		return r.Verify(path)
	}
	return nil
}

// realSize is the size of the file at path, read as n bytes with a limit
// one past the allowed size: beyond the limit, the file's own size or, for
// the .part file (which keeps one byte too many), the upstream body's.
// atLeast says the file is larger still.
func (r *Request) realSize(f *os.File, path string, n int64) (size int64, atLeast bool) {
	if n <= r.limit() {
		return n, false
	}
	if path == r.Part && r.overrun >= n {
		return r.overrun, r.overrunMore
	}
	if fi, err := f.Stat(); err == nil && fi.Size() >= n {
		return fi.Size(), false
	}
	return n, true
}

// limit is how many bytes the content may have.
func (r *Request) limit() int64 {
	if r.Size >= 0 {
		return r.Size
	}
	return r.MaxSize
}

// checkSize judges a file of n bytes (or more, if atLeast).
func (r *Request) checkSize(n int64, atLeast bool) error {
	if r.Size < 0 {
		if n > r.MaxSize {
			return fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, r.MaxSize)
		}
		return nil
	}
	if n != r.Size {
		more := ""
		if atLeast {
			more = " or more"
		}
		return fmt.Errorf("%w: size: expected %d bytes, got %d%s", ErrMismatch, r.Size, n, more)
	}
	return nil
}
