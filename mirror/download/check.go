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
	limit := r.MaxSize
	if r.Size >= 0 {
		limit = r.Size
	}
	n, err := io.Copy(w, io.LimitReader(f, limit+1))
	if err != nil {
		return err
	}
	if err := r.checkSize(n); err != nil {
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

// checkSize judges n bytes read with a limit one past the allowed size.
func (r *Request) checkSize(n int64) error {
	if r.Size < 0 {
		if n > r.MaxSize {
			return fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, r.MaxSize)
		}
		return nil
	}
	if n != r.Size {
		more := ""
		if n > r.Size {
			more = " or more"
		}
		return fmt.Errorf("%w: size: expected %d bytes, got %d%s", ErrMismatch, r.Size, n, more)
	}
	return nil
}
