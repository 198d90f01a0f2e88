package rootfs

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
)

// write writes the tree as an uncompressed tar, deterministically:
// entries in depth-first path order (a directory before its contents),
// numeric owners without names, mtimes clamped to t.sde and truncated to
// seconds, no access or change times. tar.Writer then picks the format
// from each header alone (USTAR, or PAX for long paths), so equal trees
// give equal bytes. Regular files sharing a blob (hard links in a
// package) become one file and hard links to it, the file at the first
// path in output order so that every link follows its target. It returns
// the number of non-directory entries.
//
// As a last defence it refuses any entry whose name is not a clean
// relative path inside the root (see checkEntryName), whatever put it in
// the tree: a package path, a dpkg database file, an alternative.
func (t *tree) write(w io.Writer) (int, error) {
	paths := make([]string, 0, len(t.nodes))
	for p := range t.nodes {
		paths = append(paths, p)
	}
	slices.SortFunc(paths, comparePaths)
	tw := tar.NewWriter(w)
	written := map[*blob]string{}
	files := 0
	for _, p := range paths {
		e := t.nodes[p]
		if err := checkEntryName(p); err != nil {
			return 0, fmt.Errorf("%w (%s)", err, describe(e))
		}
		h := &tar.Header{
			Name: p, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			ModTime: clamp(e.mtime, t.sde), Linkname: e.link,
		}
		switch e.typ {
		case tar.TypeDir:
			h.Name += "/"
		case tar.TypeReg:
			if first, ok := written[e.blob]; ok {
				h.Typeflag, h.Linkname = tar.TypeLink, first
			} else {
				h.Size = e.blob.size
				written[e.blob] = p
			}
		}
		if e.typ != tar.TypeDir {
			files++
		}
		if err := tw.WriteHeader(h); err != nil {
			return 0, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.Copy(tw, t.sp.reader(e.blob)); err != nil {
				return 0, err
			}
		}
	}
	return files, tw.Close()
}

// clamp returns the earlier of mtime and sde, in whole seconds.
func clamp(mtime, sde time.Time) time.Time {
	if mtime.IsZero() || mtime.After(sde) {
		mtime = sde
	}
	return time.Unix(mtime.Unix(), 0)
}

// checkEntryName refuses a root-relative entry name that extraction
// could resolve outside the root or that names the root itself: empty,
// absolute, not clean ("a//b", "a/./b", "a/"), or with a ".." element.
func checkEntryName(p string) error {
	ok := p != "" && p != "." && !path.IsAbs(p) && path.Clean(p) == p && !strings.ContainsRune(p, 0)
	for rest := p; ok; {
		elem, tail, more := strings.Cut(rest, "/")
		if elem == ".." {
			ok = false
		}
		if !more {
			break
		}
		rest = tail
	}
	if !ok {
		return fmt.Errorf("refusing tar entry %q: not a clean relative path inside the root", p)
	}
	return nil
}
