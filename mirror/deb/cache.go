package deb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/lkpkg/lkpkg/internal/atomicfile"
	"github.com/lkpkg/lkpkg/internal/units"
	"github.com/lkpkg/lkpkg/mirror/download"
)

// Cache layout; see Client. Downloads in progress and their locks live in
// CacheDir/partial (as apt's), so sha256/ only ever holds verified files.

func (c *Client) blobPath(sum string) string {
	return filepath.Join(c.CacheDir, "sha256", sum)
}

func (c *Client) partialPath(sum string) string {
	return filepath.Join(c.CacheDir, "partial", sum)
}

func (c *Client) inReleasePath(url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(c.CacheDir, "inrelease", hex.EncodeToString(sum[:16]))
}

// cachedInRelease returns the InRelease last verified from url.
func (c *Client) cachedInRelease(url string) ([]byte, error) {
	return os.ReadFile(c.inReleasePath(url))
}

// keepInRelease caches data, verified from url, for when the archive is
// unreachable.
func (c *Client) keepInRelease(url string, data []byte) error {
	return writeFileAtomic(c.inReleasePath(url), bytes.NewReader(data))
}

// request is the download of u into the cache, pinned by its digest and
// size.
func (c *Client) request(u *url.URL, sum string, size int64) download.Request {
	partial := c.partialPath(sum)
	return download.Request{
		Path:   c.blobPath(sum),
		Part:   partial + ".part",
		Lock:   partial + ".lock",
		Size:   size,
		SHA256: sum,
		Open: func(ctx context.Context, offset int64) (io.ReadCloser, error) {
			c.logf("deb: fetch %s (%s)", u, units.Human(size-offset))
			return c.open(ctx, u, offset)
		},
		Logf: func(format string, args ...any) { c.logf("deb: "+format, args...) },
	}
}

// writeFileAtomic writes r's content to path via a temporary file and
// rename, so readers never see a partial file.
func writeFileAtomic(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
}
