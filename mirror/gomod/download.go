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

	"github.com/lkpkg/lkpkg/internal/units"
	"github.com/lkpkg/lkpkg/mirror/download"
)

// maxInfo bounds a .info file: a version, a time and perhaps an origin.
const maxInfo = 1 << 20

// Download makes m's .info, .mod and (unless m.Sum is "") .zip available
// in the cache, verified against m.GoModSum and m.Sum. A file already in
// the cache is verified again; one that fails (tampering, bit rot) is
// fetched again and verified again, never trusted.
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

// fetch makes dst a verified copy of the proxy's rel through the shared
// download cache: a file already there is verified again, and one that
// fails is fetched again rather than trusted.
func (c *Client) fetch(ctx context.Context, rel, dst string, max int64, verify func(string) error) error {
	start := time.Now()
	var refused error // the downloaded file's verification failure
	res, err := download.Fetch(ctx, download.Request{
		Path:    dst,
		Size:    -1,
		MaxSize: max,
		Verify: func(p string) error {
			refused = verify(p)
			return refused
		},
		Open: func(ctx context.Context, offset int64) (io.ReadCloser, error) {
			if offset > 0 {
				return nil, download.ErrNoRange // proxies serve whole files
			}
			return c.open(ctx, c.proxy(), rel)
		},
		Logf: c.logf,
	})
	switch {
	case err != nil && refused != nil && errors.Is(err, refused):
		return fmt.Errorf("%w\n\t(downloaded from %s/%s)", err, c.proxy(), rel)
	case err != nil && errors.Is(err, download.ErrTooLarge):
		return fmt.Errorf("%s/%s: %w", c.proxy(), rel, err)
	case err != nil:
		return err
	}
	if !res.Cached {
		c.logf("downloaded %s (%s in %s)", rel, units.Human(res.Bytes), time.Since(start).Round(time.Millisecond))
	}
	return nil
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
