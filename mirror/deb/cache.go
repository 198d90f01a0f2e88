package deb

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Cache layout and atomic writes; see Client for the layout.

// cachedOK reports whether the cache holds the file with this digest.
// Hits are hashed again, not trusted on size: the cache directory is part
// of the chain of trust, and hashing is far cheaper than the download it
// saves. A corrupt entry is removed so the caller fetches it anew.
func (c *Client) cachedOK(path, want string, size int64) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err == nil && n == size && hex.EncodeToString(h.Sum(nil)) == want {
		return true
	}
	c.logf("deb: cached %s is corrupt (%d bytes, want %d); fetching it again", path, n, size)
	os.Remove(path)
	return false
}

func (c *Client) blobPath(sum string) string {
	return filepath.Join(c.CacheDir, "sha256", sum)
}

func (c *Client) inReleasePath(url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(c.CacheDir, "inrelease", hex.EncodeToString(sum[:16]))
}

// finishFile syncs, closes and renames tmp into place, readable by all,
// so a crash cannot leave a truncated file under a final name.
func finishFile(tmp *os.File, dst string) error {
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// writeFileAtomic writes r's content to path via a temporary file and
// rename, so readers never see a partial file.
func writeFileAtomic(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, r); err != nil {
		return err
	}
	return finishFile(tmp, path)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
