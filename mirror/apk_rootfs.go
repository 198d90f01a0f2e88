package mirror

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/lkpkg/lkpkg/mirror/apk"
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
