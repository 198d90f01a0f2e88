package gomod

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/sync/errgroup"
)

// Closure lists the modules needed to build packages of root with the
// network off, from a GOPROXY tree: root itself and every module root's
// go.mod requires, with zips, plus the go.mod files the go command reads
// to build its module graph, without zips (Sum ""). Hashes come from the
// checksum database; root's are looked up unless given. The list is
// sorted by path, then version.
//
// It follows the go command's module graph loading (cmd/go/internal/
// modload: readModGraph) with root's go.mod as the main module, which
// covers both building root's own tree and building a module that
// requires root:
//
//   - root's requirements are the graph's roots, whose go.mod files are
//     read. A go.mod at go 1.17 or later lists every module that provides
//     a package to the module's packages and tests ("pruned"), so the
//     roots' own requirements become graph nodes without being read.
//   - below a go.mod before go 1.17 (or without a go line: "unpruned"),
//     every go.mod is read, transitively.
//   - if root's go.mod is not tidy (a root is below the version the graph
//     selects), the roots move up to the selected versions, as
//     `go build -mod=mod` does, until nothing changes.
//
// Zips are needed for modules that provide packages, which for a pruned
// root are among its requirements (go mod tidy puts them there), and for
// any selected module whose path is a path prefix of such a module's path,
// or has one as its prefix: the go command opens those too to rule out
// ambiguous imports. For an unpruned root (before go 1.17) the requires
// may be incomplete: Closure then takes zips for the whole selected build
// list.
//
// replace and exclude directives in root's go.mod are ignored, as they
// are for any dependency (and refused by `go install path@version`): a
// root whose build relies on them is not covered.
func (c *Client) Closure(ctx context.Context, root Module) ([]Module, error) {
	s, err := c.newSumSession(ctx)
	if err != nil {
		return nil, err
	}
	if root.Sum == "" || root.GoModSum == "" {
		if root, err = s.lookup(root.Path, root.Version); err != nil {
			return nil, err
		}
	}
	g := &graph{c: c, s: s, ctx: ctx, sums: map[module.Version]Module{}, summaries: map[module.Version]*summary{}}
	rootV := module.Version{Path: root.Path, Version: root.Version}
	g.sums[rootV] = root
	rs, err := g.summary(rootV)
	if err != nil {
		return nil, err
	}
	roots := append([]module.Version(nil), rs.require...)
	// Every go.mod read on the way counts: `go build -mod=mod` reads the
	// graph of the untidy roots before it moves them up.
	loaded := map[module.Version]bool{}
	var b buildList
	for {
		b, err = g.load(root.Path, roots, rs.pruned)
		if err != nil {
			return nil, err
		}
		for m := range b.loaded {
			loaded[m] = true
		}
		changed := false
		for i, r := range roots {
			if v := b.selected[r.Path]; v != r.Version {
				roots[i].Version, changed = v, true
			}
		}
		if !changed {
			break
		}
		roots = dedupe(roots)
	}

	zips := map[module.Version]bool{rootV: true}
	for _, r := range roots {
		zips[r] = true
	}
	if !rs.pruned {
		for p, v := range b.selected {
			zips[module.Version{Path: p, Version: v}] = true
		}
	}
	var zipPaths []string
	for z := range zips {
		zipPaths = append(zipPaths, z.Path)
	}
	for p, v := range b.selected {
		for _, z := range zipPaths {
			if nested(p, z) || nested(z, p) {
				zips[module.Version{Path: p, Version: v}] = true
				break
			}
		}
	}

	var out []Module
	for m := range zips {
		mod, err := g.sum(m)
		if err != nil {
			return nil, err
		}
		out = append(out, mod)
	}
	for m := range loaded {
		if zips[m] {
			continue
		}
		mod, err := g.sum(m)
		if err != nil {
			return nil, err
		}
		mod.Sum = ""
		out = append(out, mod)
	}
	SortModules(out)
	c.logf("closure of %s: %d modules, %d with zips", root, len(out), len(zips))
	return out, nil
}

// nested reports whether module path inner is below outer, so that a
// package path can have both as prefixes.
func nested(outer, inner string) bool {
	return strings.HasPrefix(inner, outer+"/")
}

// SortModules sorts by path, then by semantic version.
func SortModules(mods []Module) {
	sort.Slice(mods, func(i, j int) bool {
		a, b := mods[i], mods[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if c := semver.Compare(a.Version, b.Version); c != 0 {
			return c < 0
		}
		return a.Version < b.Version
	})
}

func dedupe(list []module.Version) []module.Version {
	seen := map[module.Version]bool{}
	out := list[:0]
	for _, m := range list {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// graph loads go.mod files, each once, through the checksum database.
type graph struct {
	c   *Client
	s   *sumSession
	ctx context.Context

	mu        sync.Mutex
	sums      map[module.Version]Module
	summaries map[module.Version]*summary
}

// summary is what the module graph needs from a go.mod.
type summary struct {
	require []module.Version
	pruned  bool // go 1.17 or later: requires list everything needed
}

// buildList is one load of the module graph.
type buildList struct {
	loaded   map[module.Version]bool // go.mod read
	selected map[string]string       // path -> version chosen by MVS
}

// load reads the module graph of a main module mainPath with the given
// roots, level by level like readModGraph's queue, and selects the
// highest version of each path among all nodes (MVS over a graph whose
// nodes are all reachable). Requirements of mainPath are the main module
// itself and not followed.
func (g *graph) load(mainPath string, roots []module.Version, mainPruned bool) (buildList, error) {
	b := buildList{loaded: map[module.Version]bool{}, selected: map[string]string{}}
	pick := func(m module.Version) {
		if m.Path == mainPath {
			return
		}
		if cur, ok := b.selected[m.Path]; !ok || semver.Compare(m.Version, cur) > 0 {
			b.selected[m.Path] = m.Version
		}
	}
	type item struct {
		m        module.Version
		unpruned bool
	}
	queued := map[item]bool{}
	var level []item
	enqueue := func(m module.Version, unpruned bool) {
		it := item{m, unpruned}
		if m.Path == mainPath || m.Version == "none" || queued[it] {
			return
		}
		queued[it] = true
		level = append(level, it)
	}
	for _, r := range roots {
		pick(r)
		enqueue(r, !mainPruned)
	}
	for len(level) > 0 {
		cur := level
		level = nil
		sums := make([]*summary, len(cur))
		var eg errgroup.Group
		eg.SetLimit(8)
		for i, it := range cur {
			eg.Go(func() (err error) {
				sums[i], err = g.summary(it.m)
				return err
			})
		}
		if err := eg.Wait(); err != nil {
			return buildList{}, err
		}
		for i, it := range cur {
			b.loaded[it.m] = true
			s := sums[i]
			next := it.unpruned || !s.pruned
			for _, r := range s.require {
				pick(r)
				// A pruned go.mod's requirements are nodes, not read;
				// below an unpruned one, everything is read.
				if next {
					enqueue(r, true)
				}
			}
		}
	}
	return b, nil
}

// sum returns m with its hashes, looking them up once.
func (g *graph) sum(m module.Version) (Module, error) {
	g.mu.Lock()
	mod, ok := g.sums[m]
	g.mu.Unlock()
	if ok {
		return mod, nil
	}
	mod, err := g.s.lookup(m.Path, m.Version)
	if err != nil {
		return Module{}, err
	}
	g.mu.Lock()
	g.sums[m] = mod
	g.mu.Unlock()
	return mod, nil
}

// summary reads m's go.mod, verified against the checksum database.
func (g *graph) summary(m module.Version) (*summary, error) {
	g.mu.Lock()
	s, ok := g.summaries[m]
	g.mu.Unlock()
	if ok {
		return s, nil
	}
	mod, err := g.sum(m)
	if err != nil {
		return nil, err
	}
	data, err := g.c.readMod(g.ctx, mod)
	if err != nil {
		return nil, err
	}
	// Lax, as the go command reads dependencies' go.mod files: directives
	// newer than this code must not break loading.
	f, err := modfile.ParseLax(m.Path+"@"+m.Version+"/go.mod", data, nil)
	if err != nil {
		return nil, err
	}
	if f.Module != nil && f.Module.Mod.Path != m.Path {
		return nil, fmt.Errorf("%s: its go.mod declares module %s", mod, f.Module.Mod.Path)
	}
	s = &summary{}
	if f.Go != nil {
		s.pruned = atLeastGo117(f.Go.Version)
	}
	for _, r := range f.Require {
		s.require = append(s.require, r.Mod)
	}
	g.mu.Lock()
	g.summaries[m] = s
	g.mu.Unlock()
	return s, nil
}

// atLeastGo117 reports whether a go directive ("1.16", "1.21rc1",
// "1.22.3") enables module graph pruning.
func atLeastGo117(v string) bool {
	majorText, rest, _ := strings.Cut(v, ".")
	major, err := strconv.Atoi(majorText)
	if err != nil {
		return false
	}
	if major != 1 {
		return major > 1
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	minor, err := strconv.Atoi(rest[:end])
	return err == nil && minor >= 17
}
