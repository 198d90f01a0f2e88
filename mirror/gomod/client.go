package gomod

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
)

// DefaultProxy is the module proxy used when Client.Proxy is empty.
const DefaultProxy = "https://proxy.golang.org"

// DefaultSumDB is the checksum database used when Client.SumDB is empty.
const DefaultSumDB = "sum.golang.org"

// Module is one module version with its go.sum hashes.
type Module struct {
	Path, Version string
	// Sum is the h1: hash of the module zip; "" for a module of which
	// only go.mod is needed.
	Sum string
	// GoModSum is the h1: hash of the module's go.mod.
	GoModSum string
}

// String is path@version.
func (m Module) String() string { return m.Path + "@" + m.Version }

// Files are the verified cached files of one module version.
type Files struct {
	Info, Mod, Zip string // Zip is "" for a go.mod-only module
}

// Client fetches modules through a module proxy into a download cache.
// The zero value is not usable: CacheDir is required.
type Client struct {
	// Proxy is one GOPROXY-style URL: http(s):// or file://.
	// "" means DefaultProxy.
	Proxy string
	// SumDB is a GOSUMDB-style checksum database: "sum.golang.org"
	// (its well-known key), a verifier key "name+hash+key", either
	// optionally followed by a space and the database's URL. Without a URL
	// the database is read through Proxy+"/sumdb/NAME" if the proxy
	// supports it (as the go command does), else from https://NAME.
	// "" means DefaultSumDB.
	SumDB string
	// CacheDir is the persistent download cache (required), so that
	// reruns work offline.
	CacheDir string
	// HTTP is the client for remote requests; nil means a client with a
	// generous timeout (toolchain zips are ~70 MiB).
	HTTP *http.Client
	// Progress gets one line per file downloaded; nil is silent.
	Progress io.Writer
}

var defaultHTTP = &http.Client{Timeout: 10 * time.Minute}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

func (c *Client) proxy() string {
	if c.Proxy == "" {
		return DefaultProxy
	}
	return strings.TrimSuffix(c.Proxy, "/")
}

func (c *Client) cacheDir() (string, error) {
	if c.CacheDir == "" {
		return "", errors.New("gomod: Client.CacheDir is required")
	}
	return c.CacheDir, nil
}

func (c *Client) logf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// errNotFound marks a file the proxy (or database) does not have.
var errNotFound = errors.New("not found")

// open reads rel below base (http(s):// or file://), retrying transient
// HTTP failures; a 404 or 410 is errNotFound, which is never retried.
func (c *Client) open(ctx context.Context, base, rel string) (io.ReadCloser, error) {
	loc := base + "/" + rel
	if p, ok := strings.CutPrefix(base, "file://"); ok {
		dir, err := url.PathUnescape(p)
		if err != nil {
			return nil, err
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", loc, errNotFound)
		}
		return f, err
	}
	var lastErr error
	for attempt := range 4 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 250 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.http().Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = err
			continue
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			return resp.Body, nil
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
			// The proxy's body says why (e.g. "not found: unknown revision").
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return nil, fmt.Errorf("%s: %w: %s", loc, errNotFound, strings.TrimSpace(string(msg)))
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			resp.Body.Close()
			lastErr = fmt.Errorf("%s: %s", loc, resp.Status)
		default:
			resp.Body.Close()
			return nil, fmt.Errorf("%s: %s", loc, resp.Status)
		}
	}
	return nil, fmt.Errorf("%s: giving up after retries: %w", loc, lastErr)
}

// readAll reads rel below base whole, refusing more than max bytes.
func (c *Client) readAll(ctx context.Context, base, rel string, max int64) ([]byte, error) {
	rc, err := c.open(ctx, base, rel)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", base, rel, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s/%s: larger than %d bytes", base, rel, max)
	}
	return b, nil
}

// escaped returns the case-escaped path and version of m, as the proxy
// protocol and the cache layout name them.
func escaped(path, version string) (epath, ever string, err error) {
	if err := module.Check(path, version); err != nil {
		return "", "", err
	}
	if epath, err = module.EscapePath(path); err != nil {
		return "", "", err
	}
	if ever, err = module.EscapeVersion(version); err != nil {
		return "", "", err
	}
	return epath, ever, nil
}
