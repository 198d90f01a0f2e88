package gomod

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/lkpkg/lkpkg/mirror/download"
)

// errNotFound marks a file the proxy (or database) does not have.
var errNotFound = download.ErrNotFound

// open reads rel below base (http(s):// or file://), retrying transient
// HTTP failures; a 404 or 410 is errNotFound, which is never retried.
func (c *Client) open(ctx context.Context, base, rel string) (io.ReadCloser, error) {
	if strings.HasPrefix(base, "file://") {
		f, err := download.OpenFile(base, rel, 0)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	loc := base + "/" + rel
	resp, err := download.Get(ctx, c.HTTP, loc, 0)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.Body, nil
	case http.StatusNotFound, http.StatusGone:
		// The proxy's body says why (e.g. "not found: unknown revision").
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %w: %s", loc, errNotFound, strings.TrimSpace(string(msg)))
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", loc, resp.Status)
	}
}

// readAll reads rel below base whole, refusing more than max bytes.
func (c *Client) readAll(ctx context.Context, base, rel string, max int64) ([]byte, error) {
	rc, err := c.open(ctx, base, rel)
	if err != nil {
		return nil, err
	}
	return download.ReadAll(rc, base+"/"+rel, max)
}
