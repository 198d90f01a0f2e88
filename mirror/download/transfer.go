package download

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// transfer appends the missing bytes to the .part file, resuming from its
// current size. resumed says whether bytes of an earlier run were kept;
// n is how many bytes crossed the network.
func (r *Request) transfer(ctx context.Context) (resumed bool, n int64, err error) {
	r.overrun, r.overrunMore = 0, false
	file, err := os.OpenFile(r.Part, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return false, 0, err
	}
	defer file.Close()
	offset, err := file.Seek(0, io.SeekEnd)
	if err != nil {
		return false, 0, err
	}
	limit := r.limit()
	if offset > limit {
		if err := restart(file); err != nil {
			return false, 0, err
		}
		offset = 0
	}
	if offset > 0 && offset == r.Size {
		return true, 0, nil // complete already; the checks decide
	}
	body, err := r.Open(ctx, offset)
	if errors.Is(err, ErrNoRange) && offset > 0 {
		// The partial file cannot be continued: start again from zero.
		if err := restart(file); err != nil {
			return false, 0, err
		}
		offset = 0
		body, err = r.Open(ctx, 0)
	}
	if err != nil {
		return false, 0, err
	}
	defer body.Close()
	// Reading one byte past the limit is enough to notice an oversized
	// body without letting a hostile server fill the disk.
	n, err = io.Copy(file, io.LimitReader(body, limit-offset+1))
	if err == nil && offset+n > limit {
		r.overrun, r.overrunMore = measureOverrun(body, offset+n)
	}
	if err != nil {
		if ctx.Err() != nil {
			return offset > 0, n, ctx.Err()
		}
		return offset > 0, n, fmt.Errorf("%w (the partial download is kept and resumed next time)", err)
	}
	return offset > 0, n, file.Close()
}

// restart empties the .part file and writes from its start again.
func restart(file *os.File) error {
	if err := file.Truncate(0); err != nil {
		return err
	}
	_, err := file.Seek(0, io.SeekStart)
	return err
}

// maxOverrunMeasured bounds how far past its limit an oversized body is
// read (and discarded) to report its real size.
const maxOverrunMeasured = 16 << 20

// measureOverrun reads the rest of a body that already gave read bytes,
// more than allowed, without keeping it: "expected 161342 bytes, got
// 166041" says what the upstream serves, where "161343" (all that was
// kept) would not. more reports a body longer still than measured.
func measureOverrun(body io.Reader, read int64) (size int64, more bool) {
	rest, err := io.CopyN(io.Discard, body, maxOverrunMeasured)
	return read + rest, err == nil
}
