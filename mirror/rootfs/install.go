package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
)

// Options configure Install.
type Options struct {
	// Arch is the native dpkg architecture of the root (amd64, arm64).
	Arch string
	// SourceDateEpoch clamps every mtime and dates the entries debroot
	// makes itself. The zero time means the Unix epoch.
	SourceDateEpoch time.Time
	// TempDir holds the spool of file contents while the root is
	// composed; "" means os.TempDir().
	TempDir string
}

// Result describes an installed root.
type Result struct {
	// Packages are the installed packages, in the order given.
	Packages []InstalledPackage
	// Files counts the non-directory entries of the tar.
	Files int
	// Alternatives maps each link update-alternatives would have made
	// (as the maintainer script names it, e.g. /usr/bin/awk) to the
	// chosen path (/usr/bin/mawk), masters and slaves alike.
	Alternatives map[string]string
	// Warnings report maintainer-script effects debroot skipped: an
	// update-alternatives call it could not read, an alternative whose
	// path is not installed.
	Warnings []string
}

// InstalledPackage identifies one installed package.
type InstalledPackage struct{ Name, Version, Arch string }

// Install composes the packages in debs (paths to .deb files the caller
// has verified), installed in the order given, into one root filesystem,
// and writes it to w as a deterministic uncompressed tar: the same debs
// and options always give the same bytes.
func Install(w io.Writer, debs []string, opts Options) (*Result, error) {
	if opts.Arch == "" {
		return nil, errors.New("debroot: Options.Arch is required")
	}
	sde := opts.SourceDateEpoch
	if sde.IsZero() {
		sde = time.Unix(0, 0)
	}
	sp, err := newSpool(opts.TempDir)
	if err != nil {
		return nil, fmt.Errorf("debroot: %w", err)
	}
	defer sp.Close()
	pkgs, err := readAll(debs, sp)
	if err != nil {
		return nil, fmt.Errorf("debroot: %w", err)
	}
	t := newTree(sp, sde)
	res, err := t.compose(pkgs, opts.Arch)
	if err != nil {
		return nil, fmt.Errorf("debroot: %w", err)
	}
	if res.Files, err = t.write(w); err != nil {
		return nil, fmt.Errorf("debroot: writing tar: %w", err)
	}
	return res, nil
}

// readAll reads the packages concurrently (decompressing data.tar.xz is
// most of Install's time) and returns them in the order given.
func readAll(debs []string, sp *spool) ([]*pkg, error) {
	// Start the biggest packages first: a toolchain's compiler package
	// alone takes a good part of the time, and must not start last.
	sizes := make([]int64, len(debs))
	for i, file := range debs {
		st, err := os.Stat(file)
		if err != nil {
			return nil, err
		}
		sizes[i] = st.Size()
	}
	byBig := make([]int, len(debs))
	for i := range byBig {
		byBig[i] = i
	}
	sort.SliceStable(byBig, func(a, b int) bool { return sizes[byBig[a]] > sizes[byBig[b]] })
	pkgs := make([]*pkg, len(debs))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, i := range byBig {
		g.Go(func() (err error) {
			pkgs[i], err = readDeb(debs[i], sp)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// dpkg installs a package once, or once per architecture if it is
	// Multi-Arch: same; its database files are named after that identity.
	seen := map[string]string{}
	for i, p := range pkgs {
		if prev, ok := seen[p.id()]; ok {
			return nil, fmt.Errorf("%s and %s both install package %s", prev, debs[i], p.id())
		}
		seen[p.id()] = debs[i]
	}
	return pkgs, nil
}

// compose merges the packages into t and adds what dpkg, debootstrap and
// the maintainer scripts debroot stands in for would have made.
func (t *tree) compose(pkgs []*pkg, arch string) (*Result, error) {
	res := &Result{}
	for _, p := range pkgs {
		res.Packages = append(res.Packages, InstalledPackage{p.name, p.version, p.arch})
		for _, e := range p.entries {
			if err := t.add(e); err != nil {
				return nil, err
			}
		}
	}
	t.mergeUsr(pkgs)
	t.baseDirs()
	t.binSh()
	if err := t.accounts(); err != nil {
		return nil, err
	}
	// Alternatives follow symlinks through the tree, which needs every
	// parent directory in place.
	if err := t.fillParents(); err != nil {
		return nil, err
	}
	var alts []alternative
	for _, p := range pkgs {
		a, warnings, err := scanAlternatives(p.scripts["postinst"], p.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.where(), err)
		}
		alts = append(alts, a...)
		res.Warnings = append(res.Warnings, warnings...)
	}
	links, warnings, err := t.applyAlternatives(alts)
	if err != nil {
		return nil, err
	}
	res.Alternatives = links
	res.Warnings = append(res.Warnings, warnings...)
	sort.Strings(res.Warnings)
	if err := t.writeDpkgDB(pkgs, arch); err != nil {
		return nil, err
	}
	if err := t.fillParents(); err != nil {
		return nil, err
	}
	return res, nil
}
