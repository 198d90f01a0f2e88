package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/lkpkg/lkpkg/mirror/download"
)

// Upstream reads files below a base URL: http(s):// or file://.
type Upstream struct {
	Base   string
	Client *http.Client // nil: download.Get's default
}

// NewUpstream returns the upstream for c: override (Options.APKUpstream),
// else mirror.yml's `upstream`.
func NewUpstream(c *Config, override string) (*Upstream, error) {
	base := override
	if base == "" {
		base = c.Upstream
	}
	if err := checkURL(base); err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	return &Upstream{Base: strings.TrimSuffix(base, "/")}, nil
}

// URL is the location of rel below the base.
func (u *Upstream) URL(rel string) string { return u.Base + "/" + strings.TrimPrefix(rel, "/") }

// ErrNotFound is returned when the upstream lacks a file.
var ErrNotFound = errors.New("not found upstream")

// errBadRange means a resumed download cannot continue; start over.
var errBadRange = errors.New("the server cannot resume this download")

// Open opens rel, starting at byte offset (for resuming downloads). It
// retries transient HTTP failures (5xx, 429, timeouts) with backoff.
func (u *Upstream) Open(ctx context.Context, rel string, offset int64) (io.ReadCloser, error) {
	for _, seg := range strings.Split(rel, "/") {
		if seg == ".." || seg == "." || strings.ContainsAny(seg, "%\\?#") {
			return nil, fmt.Errorf("upstream path %q is not a plain relative path", rel)
		}
	}
	loc := u.URL(rel)
	if strings.HasPrefix(u.Base, "file://") {
		f, err := download.OpenFile(u.Base, rel, offset)
		if errors.Is(err, download.ErrNotFound) {
			return nil, fmt.Errorf("%s: %w", loc, ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	resp, err := download.Get(ctx, u.Client, loc, offset)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %w", loc, ErrNotFound)
	case offset > 0 && resp.StatusCode == http.StatusOK:
		// The server ignored Range: skip what we already have.
		if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
			resp.Body.Close()
			return nil, err
		}
		return resp.Body, nil
	case resp.StatusCode == http.StatusPartialContent:
		// Only a range that starts where we asked can be appended.
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", offset)) {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: %w (Content-Range %q)", loc, errBadRange, resp.Header.Get("Content-Range"))
		}
		return resp.Body, nil
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %w", loc, errBadRange)
	case resp.StatusCode == http.StatusOK:
		return resp.Body, nil
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", loc, resp.Status)
	}
}

// ReadAll reads rel whole, at most max bytes.
func (u *Upstream) ReadAll(ctx context.Context, rel string, max int64) ([]byte, error) {
	rc, err := u.Open(ctx, rel, 0)
	if err != nil {
		return nil, err
	}
	return download.ReadAll(rc, u.URL(rel), max)
}
