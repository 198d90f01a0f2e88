package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// Unpack writes the flattened tree of img (as WriteTar would, without a prefix)
// into dir, which must be empty or absent (it is created). All writes go
// through an os.Root on dir, so nothing can land outside dir even if the tree
// is changed under it concurrently; the same rules as WriteTar apply before
// anything is written. Regular files are written hole-preserving (all-zero
// 64 KiB blocks are skipped), so sparse files stay sparse. Ownership and xattrs
// (regular files and directories) are applied only when running as root;
// modes and modification times always. On error dir holds a partial tree and
// should be removed.
func Unpack(dir string, img v1.Image, opts Options) error {
	t, err := flatten(img, opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := checkEmpty(root); err != nil {
		return fmt.Errorf("unpack into %s: %w", dir, err)
	}
	u := &unpacker{t: t, root: root, owner: os.Geteuid() == 0, cr: t.contentReader()}
	defer u.cr.close()
	var dirs []emitEntry
	for _, e := range t.emitOrder() {
		if err := u.write(e); err != nil {
			return t.errorf(e.node.layer, e.node.raw, "unpacking %s: %w", e.name, err)
		}
		if e.node.hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, e)
		}
	}
	// Directory metadata last, deepest first: writing children changes mtimes
	// and a read-only directory would have blocked them.
	for i := len(dirs) - 1; i >= 0; i-- {
		e := dirs[i]
		if err := u.meta(e.name, e.node.hdr, true); err != nil {
			return t.errorf(e.node.layer, e.node.raw, "unpacking %s: %w", e.name, err)
		}
	}
	return u.cr.finish()
}

type unpacker struct {
	t     *tree
	root  *os.Root
	owner bool // running as root: apply ownership and xattrs
	cr    *contentReader
}

func checkEmpty(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if err != nil && err != io.EOF {
		return err
	}
	if len(names) > 0 {
		return errors.New("directory is not empty")
	}
	return nil
}

func (u *unpacker) write(e emitEntry) error {
	h := e.header()
	switch {
	case h.Typeflag == tar.TypeDir:
		// Created private; mode, owner and times are set at the end.
		return u.root.Mkdir(e.name, 0o700)
	case h.Typeflag == tar.TypeLink:
		return u.root.Link(h.Linkname, e.name)
	case h.Typeflag == tar.TypeSymlink:
		if err := u.root.Symlink(h.Linkname, e.name); err != nil {
			return err
		}
		return u.meta(e.name, h, false)
	case h.Typeflag == tar.TypeReg:
		// O_EXCL: never open something already there (such as a symlink).
		f, err := u.root.OpenFile(e.name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if h.Size > 0 {
			err = u.cr.copyTo(e.node.content, func(r io.Reader) error {
				if err := sparseCopy(f, 0, r, h.Size); err != nil {
					return err
				}
				return f.Truncate(h.Size)
			})
		}
		if err == nil && u.owner {
			err = setXattrs(f, h)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		return u.meta(e.name, h, false)
	case isDevice(h.Typeflag):
		mode := uint32(unix.S_IFIFO)
		switch h.Typeflag {
		case tar.TypeChar:
			mode = unix.S_IFCHR
		case tar.TypeBlock:
			mode = unix.S_IFBLK
		}
		dev := unix.Mkdev(uint32(h.Devmajor), uint32(h.Devminor))
		err := atParent(u.root, e.name, func(fd int, base string) error {
			return unix.Mknodat(fd, base, mode|0o600, int(dev))
		})
		if err != nil {
			return fmt.Errorf("%w (unpacking device nodes needs CAP_MKNOD; use Devices %q)", err, DevicesSkip)
		}
		return u.meta(e.name, h, false)
	}
	return wrapf(ErrUnsupportedEntry, "type %q", string(h.Typeflag))
}

// meta applies ownership (as root), mode and mtime to name, never following
// a final symlink.
func (u *unpacker) meta(name string, h *tar.Header, dir bool) error {
	if u.owner {
		if err := u.root.Lchown(name, h.Uid, h.Gid); err != nil {
			return err
		}
		if dir {
			d, err := u.root.Open(name)
			if err != nil {
				return err
			}
			err = setXattrs(d, h)
			d.Close()
			if err != nil {
				return err
			}
		}
	}
	if h.Typeflag != tar.TypeSymlink {
		// After chown, which clears setuid/setgid.
		if err := u.root.Chmod(name, fileMode(h.Mode)); err != nil {
			return err
		}
	}
	ts := unix.NsecToTimespec(h.ModTime.UnixNano())
	return atParent(u.root, name, func(fd int, base string) error {
		return unix.UtimesNanoAt(fd, base, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	})
}

// atParent runs fn on the parent directory of name, opened through root, and
// name's last component.
func atParent(root *os.Root, name string, fn func(fd int, base string) error) error {
	d, err := root.Open(path.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(int(d.Fd()), path.Base(name))
}

func fileMode(m int64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

func setXattrs(f *os.File, h *tar.Header) error {
	keys := make([]string, 0, len(h.PAXRecords))
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		attr := strings.TrimPrefix(k, "SCHILY.xattr.")
		if err := unix.Fsetxattr(int(f.Fd()), attr, []byte(h.PAXRecords[k]), 0); err != nil {
			return fmt.Errorf("setting xattr %s: %w", attr, err)
		}
	}
	return nil
}
