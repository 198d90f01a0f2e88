package output

import (
	"archive/tar"
	"fmt"
	"io"
)

// EachEntry calls fn for every entry of the tar stream r, with a reader of
// the entry's data, and returns fn's first error as it is. An error reading
// the stream itself is returned as "what: error". The tar reader seeks over
// unread data where r is an io.Seeker, so fn may use r's offset.
func EachEntry(r io.Reader, what string, fn func(h *tar.Header, r io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fn(h, tr); err != nil {
			return err
		}
	}
}
