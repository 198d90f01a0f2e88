package pkgbuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	gofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// ContextEntry is one file, directory or symlink of a build context.
type ContextEntry struct {
	Path   string        // slash-separated, relative to the context root
	Mode   gofs.FileMode // type bits and permissions
	Size   int64
	Link   string // symlink target
	Digest string // sha256 of a regular file's content
	source string // where the bytes are on this machine
}

// BuildContext is the exact set of files sent to BuildKit. The tag hashes
// these entries and the build sends these entries, so the two cannot drift.
type BuildContext struct {
	Entries []ContextEntry // in walk order: parents first, siblings by name
}

// loadContext lists pkgDir (honouring .dockerignore) plus extra sources
// ("SRC:DST", SRC relative to pkgDir) grafted in at DST.
func loadContext(pkgDir, dockerfile string, extraSources []string) (*BuildContext, error) {
	ignore, err := readDockerignore(pkgDir)
	if err != nil {
		return nil, err
	}
	entries := map[string]ContextEntry{}
	keep := map[string]bool{".dockerignore": true, "Dockerfile": true, filepath.ToSlash(filepath.Clean(dockerfile)): true}
	if err := addTree(entries, pkgDir, "", ignore, keep); err != nil {
		return nil, err
	}
	for _, es := range extraSources {
		src, dst, _ := strings.Cut(es, ":")
		if !filepath.IsAbs(src) {
			src = filepath.Join(pkgDir, src)
		}
		dst = path.Clean(filepath.ToSlash(dst))
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("%s: extra-sources %q: %w", filepath.Join(pkgDir, "build.yml"), es, err)
		}
		if d := addParentDirs(entries, dst); d != "" {
			return nil, fmt.Errorf("%s: extra-sources %q: %s is a file in the package directory", filepath.Join(pkgDir, "build.yml"), es, d)
		}
		// Grafted files must not silently replace the package's own.
		grafted := map[string]ContextEntry{}
		if err := addTree(grafted, src, dst, nil, nil); err != nil {
			return nil, err
		}
		for p, e := range grafted {
			if old, ok := entries[p]; ok && !(old.Mode.IsDir() && e.Mode.IsDir()) {
				return nil, fmt.Errorf("%s: extra-sources %q: %s already exists in the build context", filepath.Join(pkgDir, "build.yml"), es, p)
			}
			entries[p] = e
		}
	}
	return newBuildContext(entries), nil
}

// newBuildContext is the context holding entries, in walk order.
func newBuildContext(entries map[string]ContextEntry) *BuildContext {
	bc := &BuildContext{Entries: make([]ContextEntry, 0, len(entries))}
	for _, e := range entries {
		bc.Entries = append(bc.Entries, e)
	}
	sort.Slice(bc.Entries, func(i, j int) bool { return walkLess(bc.Entries[i].Path, bc.Entries[j].Path) })
	return bc
}

// addParentDirs adds the directories above p that entries lacks. It
// returns the first of them, from p up, that entries holds as a file
// ("" if none).
func addParentDirs(entries map[string]ContextEntry, p string) (file string) {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		e, ok := entries[d]
		switch {
		case !ok:
			entries[d] = ContextEntry{Path: d, Mode: gofs.ModeDir | 0o755}
		case !e.Mode.IsDir() && file == "":
			file = d
		}
	}
	return file
}

func readDockerignore(dir string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return pm, nil
}

// addTree adds src (a file or a directory tree) at prefix.
// keep names files sent even when .dockerignore matches them (the
// Dockerfile and .dockerignore, as docker does).
func addTree(entries map[string]ContextEntry, src, prefix string, ignore *patternmatcher.PatternMatcher, keep map[string]bool) error {
	return filepath.WalkDir(src, func(p string, d gofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			if d.IsDir() && prefix == "" {
				return nil // the context root itself
			}
			rel = ""
		}
		if ignore != nil && rel != "" && !keep[rel] {
			skip, err := ignore.MatchesOrParentMatches(rel)
			if err != nil {
				return err
			}
			if skip {
				if d.IsDir() && !ignore.Exclusions() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		ctxPath := path.Join(prefix, rel)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := ContextEntry{Path: ctxPath, Mode: normalMode(info.Mode()), source: p}
		switch {
		case info.Mode().IsRegular():
			e.Size = info.Size()
			if e.Digest, err = fileDigest(p); err != nil {
				return err
			}
		case info.Mode()&gofs.ModeSymlink != 0:
			if e.Link, err = os.Readlink(p); err != nil {
				return err
			}
		case info.IsDir():
		default:
			return fmt.Errorf("%s: unsupported file type %s in build context", p, info.Mode().Type())
		}
		entries[ctxPath] = e
		return nil
	})
}

// normalMode keeps what git keeps: the file type and whether a file is
// executable. Permissions otherwise follow the umask of whoever checked
// the tree out, which must not change the tag or the image.
func normalMode(m gofs.FileMode) gofs.FileMode {
	switch {
	case m.IsDir():
		return gofs.ModeDir | 0o755
	case m&gofs.ModeSymlink != 0:
		return gofs.ModeSymlink | 0o777
	case m&0o111 != 0:
		return m&gofs.ModeType | 0o755
	default:
		return m&gofs.ModeType | 0o644
	}
}

func fileDigest(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// walkLess orders paths as a directory walk visits them: component by
// component, so "a/b" comes before "a-c" (fsutil's receiver requires it).
func walkLess(a, b string) bool {
	for {
		ha, ta, moreA := strings.Cut(a, "/")
		hb, tb, moreB := strings.Cut(b, "/")
		if ha != hb {
			return ha < hb
		}
		if !moreA || !moreB {
			return !moreA && moreB
		}
		a, b = ta, tb
	}
}

// FS exposes the context to BuildKit's file sync. Owners are root and every
// mtime is epoch, so nothing about this checkout leaks into the image.
func (bc *BuildContext) FS(epoch int64) fsutil.FS {
	return &contextFS{bc: bc, mtime: epoch * 1e9}
}

type contextFS struct {
	bc    *BuildContext
	mtime int64
}

func (c *contextFS) Walk(ctx context.Context, target string, fn gofs.WalkDirFunc) error {
	target = strings.Trim(filepath.ToSlash(filepath.Clean(target)), "/")
	if target == "." {
		target = ""
	}
	skipped := ""
	for _, e := range c.bc.Entries {
		if target != "" && e.Path != target && !strings.HasPrefix(e.Path, target+"/") {
			continue
		}
		if skipped != "" && strings.HasPrefix(e.Path, skipped+"/") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		st := &fstypes.Stat{Path: e.Path, Mode: uint32(e.Mode), Size: e.Size, ModTime: c.mtime, Linkname: e.Link}
		if err := fn(filepath.FromSlash(e.Path), &fsutil.DirEntryInfo{Stat: st}, nil); err != nil {
			// filepath.WalkDir semantics: SkipDir on a directory skips its
			// children, on a file the rest of its parent directory.
			switch {
			case err == filepath.SkipAll:
				return nil
			case err == filepath.SkipDir && e.Mode.IsDir():
				skipped = e.Path
			case err == filepath.SkipDir:
				if skipped = path.Dir(e.Path); skipped == "." {
					return nil
				}
			default:
				return err
			}
		}
	}
	return nil
}

func (c *contextFS) Open(p string) (io.ReadCloser, error) {
	p = filepath.ToSlash(filepath.Clean(p))
	i := sort.Search(len(c.bc.Entries), func(i int) bool { return !walkLess(c.bc.Entries[i].Path, p) })
	if i < len(c.bc.Entries) && c.bc.Entries[i].Path == p && c.bc.Entries[i].Mode.IsRegular() {
		e := c.bc.Entries[i]
		f, err := os.Open(e.source)
		if err != nil {
			return nil, err
		}
		if e.Digest == "" { // generated files (depends images) are not hashed
			return f, nil
		}
		return &checkedFile{f: f, e: e, h: sha256.New()}, nil
	}
	return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
}

// checkedFile fails the transfer if a file changed after it was hashed:
// the image must be built from exactly what the tag describes.
type checkedFile struct {
	f *os.File
	e ContextEntry
	h hash.Hash
	n int64
}

func (c *checkedFile) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if err == io.EOF {
		if got := "sha256:" + hex.EncodeToString(c.h.Sum(nil)); c.n != c.e.Size || got != c.e.Digest {
			return n, fmt.Errorf("%s changed while building (it no longer matches the tag's inputs): rerun the build", c.e.source)
		}
	}
	return n, err
}

func (c *checkedFile) Close() error { return c.f.Close() }
