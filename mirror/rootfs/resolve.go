package rootfs

import (
	"archive/tar"
	"path"
	"strings"
)

// maxSymlinks bounds symlink hops in resolve, as the kernel's ELOOP does.
const maxSymlinks = 40

// resolve follows an absolute path through the tree as the kernel would
// inside the root, symlinks included (the merged-/usr ones too), and
// returns the root-relative path of the entry it reaches. ok is false if
// the path leads nowhere: a missing entry, a loop, or a non-directory
// used as one. Call it once every entry's parents are in the tree.
func (t *tree) resolve(abs string) (string, bool) {
	todo := splitPath(abs)
	cur := ""
	hops := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case ".":
			continue
		case "..":
			cur = parentOf(cur)
			continue
		}
		next := path.Join(cur, name)
		e, ok := t.nodes[next]
		if !ok {
			return "", false
		}
		if e.typ == tar.TypeSymlink {
			if hops++; hops > maxSymlinks {
				return "", false
			}
			if path.IsAbs(e.link) {
				cur = ""
			}
			todo = append(splitPath(e.link), todo...)
			continue
		}
		if len(todo) > 0 && e.typ != tar.TypeDir {
			return "", false
		}
		cur = next
	}
	return cur, true
}

// resolveParent resolves the directory of abs and returns where abs itself
// lands, without following abs if it is a symlink: where a new link named
// abs is created.
func (t *tree) resolveParent(abs string) (string, bool) {
	abs = path.Clean(abs)
	d, ok := t.resolve(path.Dir(abs))
	if !ok || abs == "/" {
		return "", false
	}
	if e := t.nodes[d]; d != "" && (e == nil || e.typ != tar.TypeDir) {
		return "", false
	}
	return path.Join(d, path.Base(abs)), true
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// parentOf is the parent of a root-relative path; the root is its own.
func parentOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}
