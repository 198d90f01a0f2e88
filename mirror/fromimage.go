package mirror

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ImageSource gives a stored image for one platform; *cache.Cache is one.
type ImageSource interface {
	Image(ref string, platform v1.Platform) (v1.Image, error)
}

// Unpacker writes an image's flattened filesystem into dir, and moves the
// regular files below from to the same paths below to (slash paths inside
// dir). The caller chooses it (assemble/layer's digest-checked unpack and
// os.Root-confined moves), so this package does not depend on how layers
// are flattened, and a symlink in a hostile image cannot redirect a move.
type Unpacker interface {
	Unpack(dir string, img v1.Image) error
	MoveFiles(dir, from, to string) error
}

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
	pool := path.Join(RepoDir, "debian")
	for _, arch := range arches {
		img, err := images.Image(ref, v1.Platform{OS: "linux", Architecture: arch})
		if err != nil {
			os.RemoveAll(dir)
			return "", cleanup, fmt.Errorf("--from-image %s (%s): %w", ref, arch, err)
		}
		if err := unpack.Unpack(filepath.Join(dir, arch), img); err != nil {
			os.RemoveAll(dir)
			return "", cleanup, fmt.Errorf("--from-image %s (%s): %w", ref, arch, err)
		}
		// Every arch's image keeps its own closure; merge the pools.
		if err := unpack.MoveFiles(dir, path.Join(arch, pool), pool); err != nil {
			os.RemoveAll(dir)
			return "", cleanup, fmt.Errorf("--from-image %s (%s): taking the .debs from %s: %w", ref, arch, pool, err)
		}
	}
	return "file://" + filepath.Join(dir, pool), func() { os.RemoveAll(dir) }, nil
}
