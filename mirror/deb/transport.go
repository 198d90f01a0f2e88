package deb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/lkpkg/lkpkg/mirror/download"
)

// defaultHTTP bounds every phase that can hang except reading the body:
// a total timeout would cut off large downloads on slow links, and ctx
// already lets callers bound those.
var defaultHTTP = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	},
}

// errNotFound marks a 404 (or a missing file:// file): the archive
// answered, so no cache fallback applies, but a by-hash miss may retry the
// plain path.
var errNotFound = errors.New("not found")

// unreachableError marks failures where the archive did not answer
// usefully (transport errors, 5xx), which is when Client.Release may fall
// back to its cached InRelease.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// joinURL appends a validated relative path to a base URL, escaping it.
func joinURL(base, rel string) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", base, err)
	}
	switch u.Scheme {
	case "http", "https", "file":
	default:
		return nil, fmt.Errorf("base URL %q: unsupported scheme (want http, https or file)", base)
	}
	return u.JoinPath(rel), nil
}

// open starts reading u at byte offset (a Range request, to resume a
// download); a body that cannot start there is download.ErrNoRange. The
// caller closes the body.
func (c *Client) open(ctx context.Context, u *url.URL, offset int64) (io.ReadCloser, error) {
	if u.Scheme == "file" {
		f, err := os.Open(u.Path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", u, errNotFound)
		}
		if err == nil && offset > 0 {
			if _, err = f.Seek(offset, io.SeekStart); err != nil {
				f.Close()
			}
		}
		return f, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "lkpkg-deb")
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &unreachableError{err}
	}
	switch {
	case offset > 0 && (resp.StatusCode != http.StatusPartialContent ||
		!strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", offset))):
		// Only a range that starts where we asked can be appended.
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s: %w", u, resp.Status, download.ErrNoRange)
	case resp.StatusCode == http.StatusOK || offset > 0:
		return resp.Body, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s: %w", u, resp.Status, errNotFound)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		resp.Body.Close()
		return nil, &unreachableError{fmt.Errorf("GET %s: %s", u, resp.Status)}
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
}

// readSmall reads all of u, refusing more than limit bytes.
func (c *Client) readSmall(ctx context.Context, u *url.URL, limit int64) ([]byte, error) {
	body, err := c.open(ctx, u, 0)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &unreachableError{fmt.Errorf("GET %s: %w", u, err)}
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", u, limit)
	}
	return data, nil
}
