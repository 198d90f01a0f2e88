package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func (c *Cache) blobPath(h v1.Hash) string { return c.path("blobs", h.Algorithm, h.Hex) }

func (c *Cache) hasBlob(h v1.Hash) bool {
	_, err := os.Stat(c.blobPath(h))
	return err == nil
}

func (c *Cache) readBlob(h v1.Hash) ([]byte, error) {
	b, err := os.ReadFile(c.blobPath(h))
	if err != nil {
		return nil, fmt.Errorf("cache: reading blob %s: %w", h, err)
	}
	return b, nil
}

// putBlob stores the blob want unless already present. open is called only
// when the blob must be written; its content is verified against want and
// size before it becomes visible.
func (c *Cache) putBlob(want v1.Hash, size int64, open func() (io.ReadCloser, error)) error {
	if want.Algorithm != "sha256" {
		return fmt.Errorf("blob %s: unsupported digest algorithm", want)
	}
	if c.hasBlob(want) {
		return nil
	}
	rc, err := open()
	if err != nil {
		return fmt.Errorf("blob %s: %w", want, err)
	}
	defer rc.Close()
	tmp, err := spool(c.tmpDir(), rc, want, size)
	if err != nil {
		return err
	}
	return c.installBlob(tmp, want)
}

// installBlob renames a verified, fsynced temp file into blobs/. Callers
// fsync the blob directory once after a batch.
func (c *Cache) installBlob(tmp string, h v1.Hash) error {
	if err := os.Rename(tmp, c.blobPath(h)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cache: installing blob %s: %w", h, err)
	}
	return nil
}

// spool copies r to a new file in dir, checking it hashes to want and, if
// size >= 0, is exactly size bytes. The file is fsynced; on error it is gone.
func spool(dir string, r io.Reader, want v1.Hash, size int64) (path string, err error) {
	if size >= 0 {
		r = io.LimitReader(r, size+1) // one extra byte exposes an oversized blob
	}
	return syncedTemp(dir, "blob-", func(f *os.File) error {
		n, got, err := copyHashed(f, r)
		if err != nil {
			return fmt.Errorf("blob %s: %w", want, err)
		}
		if size >= 0 && n != size {
			return fmt.Errorf("blob %s: size mismatch: got %d bytes, want %d", want, n, size)
		}
		if got != want.Hex {
			return fmt.Errorf("blob %s: digest mismatch: content is sha256:%s", want, got)
		}
		return nil
	})
}

// copyHashed copies src to dst and returns the byte count and the hex
// sha256 of what was copied: every blob written, checked or exported is
// re-hashed on the way.
func copyHashed(dst io.Writer, src io.Reader) (n int64, hexDigest string, err error) {
	h := sha256.New()
	n, err = io.Copy(io.MultiWriter(dst, h), src)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// writeTemp writes data to a fsynced file under tmp/ and returns its path.
func (c *Cache) writeTemp(data []byte) (string, error) {
	return syncedTemp(c.tmpDir(), "file-", func(f *os.File) error {
		if _, err := f.Write(data); err != nil {
			return fmt.Errorf("cache: writing %s: %w", f.Name(), err)
		}
		return nil
	})
}

// syncedTemp creates a file in dir named after pattern (as os.CreateTemp),
// fills it with fill and leaves it readable by all and fsynced, ready to be
// renamed or linked into place. On error the file is gone.
func syncedTemp(dir, pattern string, fill func(f *os.File) error) (path string, err error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := fill(f); err != nil {
		return "", err
	}
	if err := f.Chmod(0o644); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("cache: syncing %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("cache: closing %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// replaceFile atomically replaces name in the layout root with data.
func (c *Cache) replaceFile(name string, data []byte) error {
	tmp, err := c.writeTemp(data)
	if err != nil {
		return err
	}
	p := c.path(name)
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cache: replacing %s: %w", p, err)
	}
	return syncDir(c.dir)
}

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return fmt.Errorf("cache: syncing %s: %w", dir, err)
	}
	return nil
}

// readManifestFile reads the index, manifest or config h from p, refusing
// one larger than maxManifestSize: callers hold it whole in memory.
func readManifestFile(p string, h v1.Hash) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", h, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", h, err)
	}
	if len(b) > maxManifestSize {
		return nil, fmt.Errorf("blob %s is larger than %d bytes, too large for an index, manifest or config", h, maxManifestSize)
	}
	return b, nil
}
