package gomod

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// tarFile is one regular file for writeTar.
type tarFile struct {
	name string // slash-separated, relative to the prefix
	mode int64
	size int64
	open func() (io.ReadCloser, error)
}

// writeTar writes files under prefix as a reproducible tar: the prefix and
// every directory below it get an entry (0755), entries are sorted by name
// (so a directory precedes its contents), owned by root, with mtime epoch
// in whole seconds and no access/change times, so PAX records appear only
// for long names. The same inputs give the same bytes.
func writeTar(w io.Writer, prefix string, files []tarFile, epoch time.Time) error {
	prefix = strings.Trim(prefix, "/")
	full := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "/" + name
	}
	type entry struct {
		name string // with a trailing slash for directories
		f    *tarFile
	}
	var entries []entry
	seen := map[string]bool{}
	addDir := func(d string) {
		for ; d != "." && d != "" && !seen[d+"/"]; d = path.Dir(d) {
			seen[d+"/"] = true
			entries = append(entries, entry{name: d + "/"})
		}
	}
	if prefix != "" {
		// Only the prefix itself: its parents (usr/, usr/local/) belong to
		// the image the tar lands in.
		seen[prefix+"/"] = true
		entries = append(entries, entry{name: prefix + "/"})
	}
	for i := range files {
		f := &files[i]
		n := full(f.name)
		if seen[n] || seen[n+"/"] {
			return fmt.Errorf("tar: duplicate entry %s", n)
		}
		seen[n] = true
		entries = append(entries, entry{name: n, f: f})
		addDir(path.Dir(n))
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })

	mtime := epoch.Truncate(time.Second).UTC()
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: mtime, Format: tar.FormatPAX, Uname: "root", Gname: "root"}
		if e.f != nil {
			h.Mode, h.Size, h.Typeflag = e.f.mode, e.f.size, tar.TypeReg
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if e.f == nil {
			continue
		}
		if err := copyFile(tw, e.name, e.f); err != nil {
			return err
		}
	}
	return tw.Close()
}

// copyFile copies exactly f.size bytes: a source that changed size since
// it was listed would otherwise corrupt the tar.
func copyFile(tw *tar.Writer, name string, f *tarFile) error {
	rc, err := f.open()
	if err != nil {
		return err
	}
	defer rc.Close()
	n, err := io.Copy(tw, io.LimitReader(rc, f.size+1))
	if err != nil {
		return fmt.Errorf("tar: %s: %w", name, err)
	}
	if n != f.size {
		return fmt.Errorf("tar: %s: read %d bytes, want %d", name, n, f.size)
	}
	return nil
}
