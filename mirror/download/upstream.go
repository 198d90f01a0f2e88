package download

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound marks a file its upstream does not have. OpenFile returns it
// for a missing file; which HTTP statuses mean it is the caller's call.
var ErrNotFound = errors.New("not found")

// OpenFile opens rel, a slash-separated path, below base, a file:// URL,
// from byte offset. A missing file is ErrNotFound, named base/rel.
func OpenFile(base, rel string, offset int64) (*os.File, error) {
	dir, err := url.PathUnescape(strings.TrimPrefix(base, "file://"))
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s/%s: %w", base, rel, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadAll reads rc whole and closes it, refusing more than max bytes; loc
// names the file in errors.
func ReadAll(rc io.ReadCloser, loc string, max int64) ([]byte, error) {
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", loc, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", loc, max)
	}
	return b, nil
}
