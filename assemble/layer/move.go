package layer

import (
	"io/fs"
	"os"
	"path"
	"strings"
)

// MoveFiles moves every regular file below from to the same relative path
// below to (replacing a file already there), from and to being slash paths
// inside dir (a leading "/" is dir itself). It merges trees that Unpack
// wrote into dir (say, one per architecture). Everything goes through an os.Root on dir: a
// symlink an unpacked image carries is never followed out of dir, so nothing
// outside it is read, created or replaced. Other entries (directories,
// symlinks, devices) stay where they are.
func MoveFiles(dir, from, to string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	// Names as in a layer: "/x" is dir/x, and ".." may not climb out.
	if from, err = cleanName(from); err != nil {
		return err
	}
	if to, err = cleanName(to); err != nil {
		return err
	}
	return fs.WalkDir(root.FS(), from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		dst := path.Join(to, strings.TrimPrefix(p, from+"/"))
		if err := root.MkdirAll(path.Dir(dst), 0o755); err != nil {
			return err
		}
		return root.Rename(p, dst)
	})
}
