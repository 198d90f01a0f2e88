package layer

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

type cursor struct {
	rc   io.ReadCloser
	v    *verifier
	tr   *tar.Reader
	next int // ordinal of the next entry Next returns
}

// contentReader hands out file data in any order while reading each layer
// once, front to back. Data that is passed over but still needed is spooled.
type contentReader struct {
	t       *tree
	cursors map[int]*cursor
	spool   *os.File
	end     int64
}

func (t *tree) contentReader() *contentReader {
	return &contentReader{t: t, cursors: map[int]*cursor{}}
}

// copyTo calls fn with a reader of exactly c's data.
func (r *contentReader) copyTo(c *fileData, fn func(io.Reader) error) error {
	fail := func(err error) error { return r.t.errorf(c.layer, c.raw, "%w", err) }
	if !c.pending {
		return fail(errors.New("internal error: data already written"))
	}
	c.pending = false
	if c.spooled {
		if err := fn(io.NewSectionReader(r.spool, c.off, c.hdr.Size)); err != nil {
			return fail(err)
		}
		return nil
	}
	cur, err := r.cursor(c.layer)
	if err != nil {
		return fail(err)
	}
	if cur.next > c.ord {
		return fail(errors.New("internal error: data passed over and not spooled"))
	}
	for {
		hdr, err := cur.tr.Next()
		ord := cur.next
		cur.next++
		if err == io.EOF {
			return fail(errors.New("layer changed between reads: entry missing"))
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return fail(fmt.Errorf("reading layer: %w", err))
		}
		if ord == c.ord {
			if err := sameEntry(hdr, c); err != nil {
				return fail(err)
			}
			if err := fn(cur.tr); err != nil {
				return fail(err)
			}
			return nil
		}
		if o := r.t.byPos[[2]int{c.layer, ord}]; o != nil && o.pending && !o.spooled {
			if err := sameEntry(hdr, o); err != nil {
				return r.t.errorf(o.layer, o.raw, "%w", err)
			}
			if err := r.toSpool(o, cur.tr); err != nil {
				return r.t.errorf(o.layer, o.raw, "spooling: %w", err)
			}
		}
	}
}

func sameEntry(hdr *tar.Header, c *fileData) error {
	if hdr.Name != c.raw || hdr.Size != c.hdr.Size || !isRegular(hdr.Typeflag) {
		return fmt.Errorf("layer changed between reads: got %q (%d bytes)", hdr.Name, hdr.Size)
	}
	return nil
}

func (r *contentReader) cursor(i int) (*cursor, error) {
	if c := r.cursors[i]; c != nil {
		return c, nil
	}
	rc, v, err := r.t.openLayer(i)
	if err != nil {
		return nil, err
	}
	c := &cursor{rc: rc, v: v, tr: tar.NewReader(rc)}
	r.cursors[i] = c
	return c, nil
}

func (r *contentReader) toSpool(c *fileData, src io.Reader) error {
	if r.spool == nil {
		f, err := os.CreateTemp("", "lkpkg-assemble-spool-")
		if err != nil {
			return err
		}
		os.Remove(f.Name()) // anonymous: gone when closed
		r.spool = f
	}
	if err := sparseCopy(r.spool, r.end, src, c.hdr.Size); err != nil {
		return err
	}
	c.spooled, c.off = true, r.end
	r.end += c.hdr.Size
	return r.spool.Truncate(r.end) // trailing holes read as zeros
}

// finish drains every layer opened in pass 2 to verify its digest.
func (r *contentReader) finish() error {
	for _, i := range slices.Sorted(maps.Keys(r.cursors)) {
		c := r.cursors[i]
		if err := drain(c.rc, c.v); err != nil {
			return r.t.errorf(i, "", "%w", err)
		}
	}
	return nil
}

func (r *contentReader) close() {
	for _, c := range r.cursors {
		c.rc.Close()
	}
	r.cursors = map[int]*cursor{}
	if r.spool != nil {
		r.spool.Close()
		r.spool = nil
	}
}

const blockSize = 64 << 10

// sparseCopy copies exactly n bytes from src to f at off, leaving
// all-zero blocks as holes. The caller sets the final size (Truncate).
func sparseCopy(f *os.File, off int64, src io.Reader, n int64) error {
	buf := make([]byte, blockSize)
	for n > 0 {
		k := int64(len(buf))
		if n < k {
			k = n
		}
		if _, err := io.ReadFull(src, buf[:k]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if !isZero(buf[:k]) {
			if _, err := f.WriteAt(buf[:k], off); err != nil {
				return err
			}
		}
		off += k
		n -= k
	}
	return nil
}

var zeroBlock = make([]byte, blockSize)

func isZero(b []byte) bool { return bytes.Equal(b, zeroBlock[:len(b)]) }
