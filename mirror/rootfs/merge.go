package rootfs

import (
	"archive/tar"
	"bytes"
	"fmt"
	"time"
)

// tree is the root being composed: every entry by its root-relative path.
type tree struct {
	nodes map[string]*entry
	sp    *spool
	sde   time.Time // the clamp, and the mtime of entries debroot makes
}

func newTree(sp *spool, sde time.Time) *tree {
	return &tree{nodes: map[string]*entry{}, sp: sp, sde: sde}
}

// add merges a package's entry into the tree, following dpkg's rules for
// a path that is already there:
//   - directories are shared; the first one's metadata stays;
//   - an identical file or symlink is shared too (both packages list it);
//   - otherwise the package that Replaces the other keeps the path (dpkg
//     lets a new package overwrite an installed one it replaces, and keeps
//     the installed file when the installed package replaces the new one);
//   - anything else is the file conflict dpkg would refuse to unpack.
func (t *tree) add(e *entry) error {
	old, ok := t.nodes[e.path]
	if !ok {
		t.nodes[e.path] = e
		return nil
	}
	if old.typ == tar.TypeDir && e.typ == tar.TypeDir {
		return nil
	}
	same, err := t.same(old, e)
	if err != nil || same {
		return err
	}
	if old.pkg != nil && old.pkg != e.pkg && old.typ != tar.TypeDir && e.typ != tar.TypeDir {
		switch {
		case e.pkg.replacesPkg(old.pkg):
			old.pkg.lost[old.orig] = true
			t.nodes[e.path] = e
			return nil
		case old.pkg.replacesPkg(e.pkg):
			e.pkg.lost[e.orig] = true
			return nil
		}
	}
	return fmt.Errorf("file conflict on /%s: %s and %s", e.path, describe(old), describe(e))
}

// same reports whether two non-directory entries have the same content.
func (t *tree) same(a, b *entry) (bool, error) {
	if a.typ != b.typ || a.typ == tar.TypeDir {
		return false, nil
	}
	if a.typ == tar.TypeSymlink {
		return a.link == b.link, nil
	}
	return t.sp.equal(a.blob, b.blob)
}

// describe names an entry's owner and kind for error messages.
func describe(e *entry) string {
	kind := map[byte]string{tar.TypeDir: "directory", tar.TypeReg: "file", tar.TypeSymlink: "symlink"}[e.typ]
	if e.pkg == nil {
		return "debroot's own " + kind
	}
	s := fmt.Sprintf("package %s %s ships it as a %s", e.pkg.name, e.pkg.version, kind)
	if e.orig != "/"+e.path {
		s += " at " + e.orig
	}
	if e.typ == tar.TypeSymlink {
		s += " to " + e.link
	}
	return s
}

// replacesPkg reports whether p declares Replaces on q's name and version.
func (p *pkg) replacesPkg(q *pkg) bool {
	for _, r := range p.replaces {
		if r.satisfiedBy(q.name, q.version) {
			return true
		}
	}
	return false
}

// put adds an entry debroot makes itself unless the path is taken, and
// reports whether it did.
func (t *tree) put(e *entry) bool {
	if _, ok := t.nodes[e.path]; ok {
		return false
	}
	if e.mtime.IsZero() {
		e.mtime = t.sde
	}
	t.nodes[e.path] = e
	return true
}

// dir, file and symlink make debroot's own entries, owned by root.
func dir(p string, mode int64) *entry { return &entry{path: p, typ: tar.TypeDir, mode: mode} }

func symlink(p, target string) *entry {
	return &entry{path: p, typ: tar.TypeSymlink, mode: 0o777, link: target}
}

func (t *tree) file(p string, mode int64, content []byte) (*entry, error) {
	b, err := t.sp.store(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		return nil, err
	}
	return &entry{path: p, typ: tar.TypeReg, mode: mode, blob: b}, nil
}

// fillParents gives every entry all its parent directories (0755, root),
// and checks that each parent is a directory: so no entry of the output
// lies beyond a symlink, and extracting it cannot write outside the root.
func (t *tree) fillParents() error {
	paths := make([]string, 0, len(t.nodes))
	for p := range t.nodes {
		paths = append(paths, p)
	}
	for _, p := range paths {
		for _, d := range parents(p) {
			n, ok := t.nodes[d]
			if !ok {
				t.put(dir(d, 0o755))
				continue
			}
			if n.typ != tar.TypeDir {
				return fmt.Errorf("/%s (%s) lies under /%s, which is not a directory (%s)",
					p, describe(t.nodes[p]), d, describe(n))
			}
		}
	}
	return nil
}
