package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lkpkg/lkpkg/internal/userdir"
)

const (
	layoutFile = "oci-layout"
	indexFile  = "index.json"
	lockFile   = "lkpkg.lock"
	tmpDirName = "tmp"

	layoutVersion = "1.0.0"
)

// ErrNotFound is wrapped by errors for refs or digests absent from the cache.
var ErrNotFound = errors.New("not found in cache")

// Cache is an OCI image layout directory. Several Cache values, in one or
// many processes, may safely use the same directory at once.
type Cache struct {
	dir string
}

// DirEnv is the variable cmd/lkpkg reads to override DefaultDir (this
// package reads no environment itself).
const DirEnv = "LKPKG_CACHE"

// DefaultDir is $XDG_CACHE_HOME/lkpkg/oci, else ~/.cache/lkpkg/oci; an
// error when the user has no cache directory.
func DefaultDir() (string, error) { return userdir.CacheDir("oci", "$"+DirEnv) }

// Open opens the layout at dir, creating an empty one if it is missing.
func Open(dir string) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("cache: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %s: %w", dir, err)
	}
	c := &Cache{dir: abs}
	for _, d := range []string{abs, c.blobDir(), c.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("cache: creating %s: %w", d, err)
		}
	}
	if err := c.createIfMissing(layoutFile, layoutJSON()); err != nil {
		return nil, err
	}
	empty, err := encodeIndex(nil)
	if err != nil {
		return nil, err
	}
	if err := c.createIfMissing(indexFile, empty); err != nil {
		return nil, err
	}
	if err := c.checkLayoutFile(); err != nil {
		return nil, err
	}
	if _, err := c.readIndex(); err != nil {
		return nil, err
	}
	return c, nil
}

// Dir is the absolute path of the layout.
func (c *Cache) Dir() string { return c.dir }

func (c *Cache) path(elem ...string) string {
	return filepath.Join(append([]string{c.dir}, elem...)...)
}

func (c *Cache) blobDir() string { return c.path("blobs", "sha256") }
func (c *Cache) tmpDir() string  { return c.path(tmpDirName) }

type ociLayout struct {
	Version string `json:"imageLayoutVersion"`
}

// layoutJSON is the oci-layout file this package writes, in a new layout
// and in exports.
func layoutJSON() []byte {
	b, _ := json.Marshal(ociLayout{Version: layoutVersion}) // one string field: cannot fail
	return b
}

func (c *Cache) checkLayoutFile() error {
	p := c.path(layoutFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("cache: reading %s: %w", p, err)
	}
	var l ociLayout
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("cache: invalid %s: %w", p, err)
	}
	if l.Version != layoutVersion {
		return fmt.Errorf("cache: %s: unsupported imageLayoutVersion %q", p, l.Version)
	}
	return nil
}

// createIfMissing installs data as name unless it already exists. link(2)
// refuses to overwrite, so concurrent Opens never clobber an index.json that
// another process has meanwhile filled.
func (c *Cache) createIfMissing(name string, data []byte) error {
	p := c.path(name)
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	tmp, err := c.writeTemp(data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, p); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cache: creating %s: %w", p, err)
	}
	return syncDir(c.dir)
}
