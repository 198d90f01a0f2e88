package mirror

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ImageSource gives a stored image for one platform; *cache.Cache is one.
type ImageSource interface {
	Image(ref string, platform v1.Platform) (v1.Image, error)
}

// Unpacker writes an image's flattened filesystem into dir. The caller
// chooses it (assemble's digest-checked, traversal-safe unpack), so this
// package does not depend on how layers are flattened.
type Unpacker func(dir string, img v1.Image) error

// DebsFromImage unpacks every arch of the mirror image ref (a build of c)
// into a temporary directory and merges the arches' .deb pools. It returns
// the file:// URL to use as Options.DebianUpstream: every .deb taken from
// there is verified against the lock like any download. cleanup removes
// the directory.
func DebsFromImage(c *Config, images ImageSource, ref string, unpack Unpacker) (upstream string, cleanup func(), err error) {
	cleanup = func() {}
	if c.Debian == nil {
		return "", cleanup, fmt.Errorf("--from-image: %s has no debian: section", c.File())
	}
	arches, err := c.OCIArches()
	if err != nil {
		return "", cleanup, err
	}
	dir, err := os.MkdirTemp("", "lkpkg-debs-")
	if err != nil {
		return "", cleanup, err
	}
	pool := filepath.Join(dir, RepoDir, "debian")
	for _, arch := range arches {
		img, err := images.Image(ref, v1.Platform{OS: "linux", Architecture: arch})
		if err != nil {
			os.RemoveAll(dir)
			return "", cleanup, fmt.Errorf("--from-image %s (%s): %w", ref, arch, err)
		}
		sub := filepath.Join(dir, arch)
		if err := unpack(sub, img); err != nil {
			os.RemoveAll(dir)
			return "", cleanup, fmt.Errorf("--from-image %s (%s): %w", ref, arch, err)
		}
		// Every arch's image keeps its own closure; merge the pools.
		if err := mergeTree(filepath.Join(sub, RepoDir, "debian"), pool); err != nil {
			os.RemoveAll(dir)
			return "", cleanup, err
		}
	}
	return "file://" + pool, func() { os.RemoveAll(dir) }, nil
}

// mergeTree moves the regular files below src into dst (same relative
// paths); the lock's checksums decide whether any of them is used.
func mergeTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		return os.Rename(p, to)
	})
}
