package gomod

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// maxInfo bounds a .info file: a version, a time and perhaps an origin.
const maxInfo = 1 << 20

// Download makes m's .info, .mod and (unless m.Sum is "") .zip available
// in the cache, verified against m.GoModSum and m.Sum. A file already in
// the cache is verified again and never fetched: a mismatch there is an
// error (the cache only ever holds files that were verified when written,
// so a mismatch means tampering or a lock that changed its mind).
func (c *Client) Download(ctx context.Context, m Module) (Files, error) {
	dir, err := c.cacheDir()
	if err != nil {
		return Files{}, err
	}
	epath, ever, err := escaped(m.Path, m.Version)
	if err != nil {
		return Files{}, err
	}
	if !strings.HasPrefix(m.GoModSum, "h1:") || (m.Sum != "" && !strings.HasPrefix(m.Sum, "h1:")) {
		return Files{}, fmt.Errorf("%s: want h1: hashes, have sum %q and go.mod sum %q", m, m.Sum, m.GoModSum)
	}
	rel := epath + "/@v/" + ever
	base := filepath.Join(dir, "download", filepath.FromSlash(rel))
	f := Files{Info: base + ".info", Mod: base + ".mod"}
	if err := c.fetch(ctx, rel+".mod", f.Mod, modzip.MaxGoMod, func(p string) error { return verifyMod(m, p) }); err != nil {
		return Files{}, err
	}
	if err := c.fetch(ctx, rel+".info", f.Info, maxInfo, func(p string) error { _, err := readInfo(m, p); return err }); err != nil {
		return Files{}, err
	}
	if m.Sum != "" {
		f.Zip = base + ".zip"
		if err := c.fetch(ctx, rel+".zip", f.Zip, modzip.MaxZipFile, func(p string) error { return verifyZip(m, p) }); err != nil {
			return Files{}, err
		}
	}
	return f, nil
}

// fetch makes dst a verified copy of the proxy's rel. A download goes to a
// temporary file beside dst and is renamed into place only once verified,
// so concurrent fetches (even from other processes) are safe and the cache
// never holds an unverified file.
func (c *Client) fetch(ctx context.Context, rel, dst string, max int64, verify func(string) error) error {
	if _, err := os.Stat(dst); err == nil {
		if err := verify(dst); err != nil {
			return fmt.Errorf("%w\n\t(in the download cache; remove %s to download it again)", err, dst)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	start := time.Now()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	n, err := c.copyFrom(ctx, rel, tmp, max)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := verify(tmp.Name()); err != nil {
		return fmt.Errorf("%w\n\t(downloaded from %s/%s)", err, c.proxy(), rel)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	c.logf("downloaded %s (%.1f kB in %s)", rel, float64(n)/1e3, time.Since(start).Round(time.Millisecond))
	return nil
}

func (c *Client) copyFrom(ctx context.Context, rel string, w io.Writer, max int64) (int64, error) {
	rc, err := c.open(ctx, c.proxy(), rel)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.Copy(w, io.LimitReader(rc, max+1))
	if err != nil {
		return n, fmt.Errorf("%s/%s: %w", c.proxy(), rel, err)
	}
	if n > max {
		return n, fmt.Errorf("%s/%s: larger than %d bytes", c.proxy(), rel, max)
	}
	return n, nil
}

// mismatch is the error for content that is not what the hashes say.
func mismatch(m Module, what, want, got string) error {
	return fmt.Errorf("%s: %s checksum mismatch: expected %s (lock / checksum database), got %s: refusing it", m, what, want, got)
}

// goModHash is the go.sum "/go.mod" hash of go.mod content.
func goModHash(data []byte) (string, error) {
	return dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}

func verifyMod(m Module, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	got, err := goModHash(data)
	if err != nil {
		return err
	}
	if got != m.GoModSum {
		return mismatch(m, "go.mod", m.GoModSum, got)
	}
	return nil
}

// verifyZip checks the hash, then the zip's structure (names under
// path@version/, no duplicates, sizes) as the go command does before
// extracting: the hash alone would accept a zip the go command refuses.
func verifyZip(m Module, path string) error {
	got, err := dirhash.HashZip(path, dirhash.Hash1)
	if err != nil {
		return fmt.Errorf("%s: zip %s is corrupt (%v); expected %s: refusing it", m, path, err, m.Sum)
	}
	if got != m.Sum {
		return mismatch(m, "zip", m.Sum, got)
	}
	cf, err := modzip.CheckZip(module.Version{Path: m.Path, Version: m.Version}, path)
	if err == nil {
		err = cf.Err()
	}
	if err != nil {
		return fmt.Errorf("%s: invalid module zip: %w", m, err)
	}
	return nil
}

// info is a proxy's .info file.
type info struct {
	Version string
	Time    time.Time
}

// readInfo reads a .info file and checks it names m's version. .info is
// not covered by the checksum database, so only its Version and Time are
// ever used.
func readInfo(m Module, path string) (info, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return info{}, err
	}
	var i info
	if err := json.Unmarshal(data, &i); err != nil {
		return info{}, fmt.Errorf("%s: %s: %w", m, path, err)
	}
	if i.Version != m.Version {
		return info{}, fmt.Errorf("%s: %s names version %q", m, path, i.Version)
	}
	return i, nil
}

var errNoGoMod = errors.New("no go.mod hash")

// readMod fetches and verifies m's go.mod (m.GoModSum is required) and
// returns its content.
func (c *Client) readMod(ctx context.Context, m Module) ([]byte, error) {
	if m.GoModSum == "" {
		return nil, fmt.Errorf("%s: %w", m, errNoGoMod)
	}
	dir, err := c.cacheDir()
	if err != nil {
		return nil, err
	}
	epath, ever, err := escaped(m.Path, m.Version)
	if err != nil {
		return nil, err
	}
	rel := epath + "/@v/" + ever + ".mod"
	dst := filepath.Join(dir, "download", filepath.FromSlash(rel))
	if err := c.fetch(ctx, rel, dst, modzip.MaxGoMod, func(p string) error { return verifyMod(m, p) }); err != nil {
		return nil, err
	}
	// Hash what is returned, not just what was checked a moment ago.
	data, err := os.ReadFile(dst)
	if err != nil {
		return nil, err
	}
	if got, err := goModHash(data); err != nil || got != m.GoModSum {
		return nil, mismatch(m, "go.mod", m.GoModSum, got)
	}
	return data, nil
}
