package deb

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"

	"github.com/lkpkg/lkpkg/internal/atomicfile"
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
