package rootfs

import (
	"fmt"
	"path"
	"strings"
)

// mergedDirs are the top-level directories that merged /usr turns into
// symlinks to their /usr counterparts. bin, sbin, lib and lib64 always get
// their link (as debootstrap makes them on amd64 and arm64 alike); the
// others only when a package ships something under them.
var mergedDirs = map[string]bool{
	"bin": true, "sbin": true, "lib": true, "lib64": true,
	"lib32": true, "libx32": true, "libo32": true,
}

var alwaysMerged = []string{"bin", "sbin", "lib", "lib64"}

// cleanName turns a tar entry name ("./usr/bin/", "/etc/x") into an
// absolute, clean path ("/usr/bin"); the archive's root is "/". It refuses
// names with ".." components rather than resolving them: no package has a
// reason to ship one, and resolving them is how entries escape a root.
func cleanName(name string) (string, error) {
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", fmt.Errorf("refusing path %q: it contains \"..\"", name)
		}
	}
	if strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("refusing path %q: it contains a NUL byte", name)
	}
	return path.Clean("/" + name), nil
}

// usrMerged maps an absolute path as shipped to where it lands on a
// merged-/usr root, as a path relative to the root ("" is the root):
// "/bin/sh" -> "usr/bin/sh", "/etc/passwd" -> "etc/passwd".
func usrMerged(abs string) string {
	rel := strings.TrimPrefix(abs, "/")
	top, _, _ := strings.Cut(rel, "/")
	if mergedDirs[top] {
		return "usr/" + rel
	}
	return rel
}

// movedTop reports the merged top-level directory abs lies in, if any.
func movedTop(abs string) (string, bool) {
	top, _, _ := strings.Cut(strings.TrimPrefix(abs, "/"), "/")
	return top, mergedDirs[top]
}

// retarget rewrites the relative target of a symlink shipped at abs so it
// still points at the same file once abs has moved under /usr: from
// /usr/lib a relative "../usr/lib/x" would resolve to /usr/usr/lib/x.
// Absolute targets resolve through the top-level links and stay as they
// are, and so do relative targets of links that do not move.
func retarget(abs, target string) string {
	if _, moved := movedTop(abs); !moved || path.IsAbs(target) {
		return target
	}
	dest := "/" + usrMerged(path.Join(path.Dir(abs), target))
	from := "/" + path.Dir(usrMerged(abs))
	return relPath(from, dest)
}

// relPath returns the relative path from directory dir to target, both
// absolute and clean.
func relPath(dir, target string) string {
	split := func(p string) []string {
		if p == "/" {
			return nil
		}
		return strings.Split(p[1:], "/")
	}
	d, t := split(dir), split(target)
	i := 0
	for i < len(d) && i < len(t) && d[i] == t[i] {
		i++
	}
	parts := make([]string, 0, len(d)-i+len(t)-i)
	for range d[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

// comparePaths orders root-relative paths as a depth-first walk would:
// component by component, so a directory's contents follow it directly
// ("usr/bin" < "usr/bin/x" < "usr/bin-old"). Plain string order would
// put "usr/bin-old" between "usr/bin" and "usr/bin/x", because '-' < '/'.
func comparePaths(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		return int(ca) - int(cb)
	}
	return len(a) - len(b)
}

// parents returns the ancestors of a root-relative path, nearest last:
// "usr/bin/sh" -> ["usr", "usr/bin"].
func parents(p string) []string {
	var out []string
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return out
}
