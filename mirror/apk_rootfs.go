package mirror

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/lkpkg/lkpkg/mirror/apk"
	"github.com/lkpkg/lkpkg/mirror/download"
)

// Where apk-tools records what a root has installed and what was asked for.
const (
	installedDB = "lib/apk/db/installed"
	worldFile   = "etc/apk/world"
)

// ReadRoot reads the apk database of a root filesystem tarball: what the
// mirror image already has, which `apk add` in it keeps. A tarball
// without a database (not Alpine) is an empty root.
func ReadRoot(tarGz string) (apk.Root, error) {
	f, err := os.Open(tarGz)
	if err != nil {
		return apk.Root{}, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return apk.Root{}, fmt.Errorf("%s: %w", tarGz, err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return apk.Root{}, fmt.Errorf("%s: %w", tarGz, err)
		}
		name := path.Clean("/" + h.Name)[1:]
		if name != installedDB && name != worldFile {
			continue
		}
		if files[name], err = io.ReadAll(io.LimitReader(tr, 64<<20)); err != nil {
			return apk.Root{}, fmt.Errorf("%s: %s: %w", tarGz, h.Name, err)
		}
	}
	root, err := apk.ReadRoot(bytes.NewReader(files[installedDB]), bytes.NewReader(files[worldFile]))
	if err != nil {
		return apk.Root{}, fmt.Errorf("%s: %w", tarGz, err)
	}
	return root, nil
}

// maxRootfsSize bounds a base root filesystem download.
const maxRootfsSize = 4 << 30

// LockedRootfs pins an arch's base root filesystem tarball, an upstream
// artefact like any package: mirror.yml names it below upstream, the lock
// pins its SHA-256 and size, and fetch downloads and verifies it into the
// APK download cache.
type LockedRootfs struct {
	URL    string `yaml:"url"` // below upstream, as mirror.yml's rootfs names it
	SHA256 string `yaml:"sha256"`
	Size   int64  `yaml:"size"`
}

func (r LockedRootfs) validate() error {
	switch {
	case !sha256RE.MatchString(r.SHA256):
		return fmt.Errorf("rootfs %s: sha256 %q is not a hex SHA-256", r.URL, r.SHA256)
	case r.Size <= 0:
		return fmt.Errorf("rootfs %s: size %d", r.URL, r.Size)
	}
	return nil
}

// downloadRootfs copies rel from up into a new file in dir and pins what
// it got. The caller removes or renames the file.
func downloadRootfs(ctx context.Context, up *Upstream, rel, dir string) (string, LockedRootfs, error) {
	rc, err := up.Open(ctx, rel, 0)
	if err != nil {
		return "", LockedRootfs{}, fmt.Errorf("rootfs: %w", err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(dir, "rootfs-*.part")
	if err != nil {
		return "", LockedRootfs{}, err
	}
	sum, n, err := readSHA256(io.TeeReader(io.LimitReader(rc, maxRootfsSize+1), f))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > maxRootfsSize {
		err = fmt.Errorf("larger than %d bytes", int64(maxRootfsSize))
	}
	if err != nil {
		os.Remove(f.Name())
		return "", LockedRootfs{}, fmt.Errorf("rootfs %s: %w", up.URL(rel), err)
	}
	return f.Name(), LockedRootfs{URL: rel, SHA256: sum, Size: n}, nil
}

// fetchRootfs returns the verified cached file of a locked root
// filesystem through the one download cache (resumed, locked, and a cached
// file verified on every use, never trusted).
func fetchRootfs(ctx context.Context, up *Upstream, dir string, r LockedRootfs) (string, error) {
	res, err := download.Fetch(ctx, download.Request{
		Path:   filepath.Join(dir, "rootfs-"+r.SHA256+".tar.gz"),
		Size:   r.Size,
		SHA256: r.SHA256,
		Open:   upstreamSource(up, r.URL),
	})
	if err != nil {
		return "", fmt.Errorf("rootfs %s: %w", up.URL(r.URL), err)
	}
	return res.Path, nil
}
