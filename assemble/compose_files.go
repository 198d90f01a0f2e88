package assemble

// Compose's `files:` section: contents, host sources, directories and
// symlinks, with LinuxKit's defaults for mode and ownership.

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lkpkg/lkpkg/assemble/ociruntime"
)

func (c *composer) file(what string, f File) error {
	name, err := composeClean(f.Path)
	if err != nil || name == "" {
		return fmt.Errorf("%s: path must be inside the root filesystem", what)
	}
	lookup := composeLookup(c.passwd, c.group)
	uid, err := composeFileID(f.UID, lookup, false)
	if err != nil {
		return fmt.Errorf("%s: uid: %w", what, err)
	}
	gid, err := composeFileID(f.GID, lookup, true)
	if err != nil {
		return fmt.Errorf("%s: gid: %w", what, err)
	}
	mode := int64(0o600)
	if f.Directory {
		mode = 0o700
	}
	if f.Symlink != "" {
		mode = 0o777
	}
	if f.Mode != "" {
		m, err := strconv.ParseUint(f.Mode, 8, 32)
		if err != nil {
			return fmt.Errorf("%s: mode %q: %w", what, f.Mode, err)
		}
		mode = int64(m)
	}
	h := &tar.Header{Name: name, Mode: mode, Uid: int(uid), Gid: int(gid), ModTime: composeEpoch}
	switch {
	case f.Directory:
		h.Typeflag = tar.TypeDir
		return c.add(h, nil, what)
	case f.Symlink != "":
		h.Typeflag = tar.TypeSymlink
		h.Linkname = f.Symlink
		return c.add(h, nil, what)
	case f.Contents != nil:
		return c.fileBytes(h, []byte(*f.Contents), what)
	case f.Metadata == "yaml":
		return c.fileBytes(h, c.opts.YAML, what)
	case f.Source != "":
		return c.fileSource(h, f, what)
	}
	return fmt.Errorf("%s: nothing to write (contents, source, metadata, directory or symlink)", what)
}

func (c *composer) fileBytes(h *tar.Header, data []byte, what string) error {
	h.Typeflag = tar.TypeReg
	h.Size = int64(len(data))
	return c.add(h, bytes.NewReader(data), what)
}

func composeFileID(v any, lookup func(string) (uint32, uint32, error), group bool) (uint32, error) {
	field := "uid"
	if group {
		field = "gid"
	}
	return ociruntime.ID(field, v, lookup, group)
}

// fileSource copies a file, or a directory tree, from the build host.
func (c *composer) fileSource(h *tar.Header, f File, what string) error {
	p := f.Source
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("%s: source %q: %w", what, p, err)
		}
		p = filepath.Join(home, rest)
	} else if !filepath.IsAbs(p) {
		p = filepath.Join(c.opts.BaseDir, p)
	}
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && f.Optional {
			return nil
		}
		return fmt.Errorf("%s: source: %w", what, err)
	}
	if st.Mode().IsRegular() {
		return c.hostFile(h, p, st.Size(), what)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: source %s is neither a regular file nor a directory", what, p)
	}
	// A directory: the tree below it, in sorted order, with the entry's
	// mode, uid and gid on the top directory and the host's permission
	// bits (owned by the entry's uid/gid) below.
	top := h.Name
	h.Typeflag = tar.TypeDir
	if f.Mode == "" {
		h.Mode = 0o755
	}
	if err := c.add(h, nil, what); err != nil {
		return err
	}
	entries, err := treeEntries(p)
	if err != nil {
		return fmt.Errorf("%s: source: %w", what, err)
	}
	for _, e := range entries {
		fp, st := e.path, e.info
		eh := &tar.Header{Name: top + "/" + e.rel, Mode: int64(st.Mode().Perm()), Uid: h.Uid, Gid: h.Gid, ModTime: composeEpoch}
		switch {
		case st.Mode().IsRegular():
			if err := c.hostFile(eh, fp, st.Size(), what); err != nil {
				return err
			}
		case st.IsDir():
			eh.Typeflag = tar.TypeDir
			if err := c.add(eh, nil, what); err != nil {
				return err
			}
		case st.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(fp)
			if err != nil {
				return fmt.Errorf("%s: source: %w", what, err)
			}
			eh.Typeflag = tar.TypeSymlink
			eh.Linkname = target
			eh.Mode = 0o777
			if err := c.add(eh, nil, what); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: source %s: special files are not copied", what, fp)
		}
	}
	return nil
}

// hostFile adds the host's regular file p, of size bytes, as the regular
// file h.
func (c *composer) hostFile(h *tar.Header, p string, size int64, what string) error {
	fh, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("%s: source: %w", what, err)
	}
	defer fh.Close()
	h.Typeflag = tar.TypeReg
	h.Size = size
	// A file that changes size while being read fails the copy.
	return c.add(h, io.LimitReader(fh, size), what)
}

// treeEntry is a path below the root of a directory tree.
type treeEntry struct {
	path string      // as found by the walk
	rel  string      // relative to the root, slash-separated
	info fs.FileInfo // of the path itself: symlinks are not followed
}

// treeEntries lists the paths below dir (not dir itself), sorted: the order
// directory trees are written into the root filesystem in.
func treeEntries(dir string) ([]treeEntry, error) {
	var entries []treeEntry
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		entries = append(entries, treeEntry{p, filepath.ToSlash(rel), info})
		return nil
	}); err != nil {
		return nil, err
	}
	// WalkDir is lexical already; keep it explicit.
	slices.SortFunc(entries, func(a, b treeEntry) int { return strings.Compare(a.path, b.path) })
	return entries, nil
}
