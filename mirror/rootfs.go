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

// installedDB is where apk-tools records what is installed.
const installedDB = "lib/apk/db/installed"

// InstalledPackages reads the apk database of a root filesystem tarball:
// the packages the mirror image already has, which `apk add` in it keeps.
// A tarball without a database (not Alpine) has none.
func InstalledPackages(tarGz string) ([]apk.Package, error) {
	f, err := os.Open(tarGz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tarGz, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tarGz, err)
		}
		if path.Clean(h.Name) != installedDB && path.Clean("/"+h.Name) != "/"+installedDB {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, 64<<20))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", tarGz, h.Name, err)
		}
		pkgs, err := apk.ParseIndex(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", tarGz, h.Name, err)
		}
		return pkgs, nil
	}
}
