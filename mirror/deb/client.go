package deb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/lkpkg/lkpkg/mirror/download"
)

// Client fetches from a Debian archive over HTTP(S) or file:// and keeps
// what it downloaded in CacheDir, so a rerun needs no network:
//
//	CacheDir/sha256/<digest>        every verified download, by content
//	CacheDir/inrelease/<url digest> the last verified InRelease per URL
//	CacheDir/partial/<digest>.part  a download in progress, resumed next time
//	CacheDir/partial/<digest>.lock  held by the one process downloading it
//
// Downloads go through mirror/download: a Client is safe for concurrent
// use, and concurrent fetchers of one file (in any process) download it
// once.
type Client struct {
	HTTP     *http.Client // nil: a client with connect/header timeouts
	CacheDir string       // required
	Progress io.Writer    // nil: silent
}

// maxInRelease bounds an InRelease download; bookworm's is ~150 KiB.
const maxInRelease = 32 << 20

func (c *Client) logf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

func (c *Client) checkCacheDir() error {
	if c.CacheDir == "" {
		return errors.New("deb: Client.CacheDir is not set")
	}
	return nil
}

// Release fetches BASE/dists/SUITE/InRelease and verifies it, checking
// that it really is SUITE (its Suite or Codename), so a validly signed
// InRelease of another suite cannot be substituted. When the archive is
// unreachable (network error or 5xx) and an InRelease for the same URL is
// cached, that copy is used instead: it is verified again at now, so an
// expired Valid-Until still refuses it, and a note goes to Progress.
func (c *Client) Release(ctx context.Context, baseURL, suite string, kr *Keyring, now time.Time) (*Release, error) {
	if err := c.checkCacheDir(); err != nil {
		return nil, err
	}
	if err := validateRelPath(suite); err != nil {
		return nil, fmt.Errorf("deb: suite: %w", err)
	}
	u, err := joinURL(baseURL, "dists/"+suite+"/InRelease")
	if err != nil {
		return nil, fmt.Errorf("deb: %w", err)
	}
	data, err := c.readSmall(ctx, u, maxInRelease)
	fromCache := false
	if err != nil {
		var unreachable *unreachableError
		if !errors.As(err, &unreachable) {
			return nil, fmt.Errorf("deb: fetch InRelease: %w", err)
		}
		cached, cerr := c.cachedInRelease(u.String())
		if cerr != nil {
			return nil, fmt.Errorf("deb: fetch InRelease: %w (and no cached copy)", err)
		}
		c.logf("deb: %s unreachable (%v); using the cached InRelease, verified again", u, err)
		data, fromCache = cached, true
	} else {
		c.logf("deb: fetched %s", u)
	}
	rel, err := VerifyInRelease(data, kr, now)
	if err != nil {
		if fromCache {
			return nil, fmt.Errorf("%w (cached copy of %s)", err, u)
		}
		return nil, fmt.Errorf("%w (%s)", err, u)
	}
	if rel.Suite != suite && rel.Codename != suite {
		return nil, fmt.Errorf("deb: %s: conflicting distribution: asked for %s, got Suite %q Codename %q", u, suite, rel.Suite, rel.Codename)
	}
	rel.Dist = suite
	if !fromCache {
		if err := c.keepInRelease(u.String(), data); err != nil {
			return nil, fmt.Errorf("deb: cache InRelease: %w", err)
		}
	}
	return rel, nil
}

// Fetch downloads BASE/FILENAME into the cache, checking size and SHA256
// while streaming (nothing unverified ever reaches the cache path), and
// returns the cached path. A cache hit touches no network at all.
func (c *Client) Fetch(ctx context.Context, baseURL, filename, sha256sum string, size int64) (string, error) {
	return c.fetch(ctx, baseURL, []string{filename}, filename, sha256sum, size)
}

// fetch tries each path in turn while the archive answers 404 (by-hash
// first, then the plain name). name labels errors.
func (c *Client) fetch(ctx context.Context, baseURL string, paths []string, name, sha256sum string, size int64) (string, error) {
	if err := c.checkCacheDir(); err != nil {
		return "", err
	}
	if err := validateSHA256(sha256sum); err != nil {
		return "", fmt.Errorf("deb: fetch %s: %w", name, err)
	}
	if size < 0 {
		return "", fmt.Errorf("deb: fetch %s: negative size", name)
	}
	var lastErr error
	for _, p := range paths {
		if err := validateRelPath(p); err != nil {
			return "", fmt.Errorf("deb: fetch %s: %w", name, err)
		}
		u, err := joinURL(baseURL, p)
		if err != nil {
			return "", fmt.Errorf("deb: %w", err)
		}
		res, err := download.Fetch(ctx, c.request(u, sha256sum, size))
		if err == nil {
			return res.Path, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		lastErr = fmt.Errorf("deb: fetch %s: %w", name, err)
		if !errors.Is(err, errNotFound) {
			break
		}
	}
	return "", lastErr
}
