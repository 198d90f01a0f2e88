package deb

import (
	"fmt"
	"sort"
	"strings"
)

// ResolveOptions describes the dpkg architecture setup of the target root.
type ResolveOptions struct {
	Native  string   // native dpkg architecture, e.g. "amd64"
	Foreign []string // enabled foreign architectures (dpkg --add-architecture)
	// Essential also installs every Essential: yes package of the native
	// architecture and their dependencies, like debootstrap's minbase
	// variant without its Priority: required extras.
	Essential bool
}

// Resolve returns the closure of the wanted packages, sorted by name then
// architecture. A spec is a dependency atom: "gcc", "libseccomp-dev:arm64",
// "make (>= 4)", "gcc=4:12.2.0-3" or alternatives "a | b". Without an
// architecture qualifier it means the native architecture.
//
// Versions are chosen as apt chooses them (without pins): each name in
// each architecture has one candidate, its highest version across all
// the indexes, and a dependency is satisfied only by candidates (or by
// what candidates Provide), never by an older version that happens to
// meet its constraint: for "Depends: libfoo (<< 1.1)" with libfoo 1.0
// and 1.1 available the dependency is unsatisfiable, as apt reports
// "but 1.1 is to be installed". Only a wanted spec can pick an older
// version, by naming it ("libfoo=1.0") or by a constraint the candidate
// does not meet (the highest version that meets it is taken); that
// version then is the candidate for everything that depends on the name.
//
// It follows Depends and Pre-Depends only (not Recommends or Suggests).
// For each dependency it keeps an already selected package that satisfies
// it (of any alternative), else picks the first alternative with a
// candidate that satisfies it: a real package of that name (native
// architecture first), else a provider (versioned provides for versioned
// dependencies). Dependencies without alternatives are resolved before
// any with, so a choice prefers what the rest of the closure already
// brings. Multi-Arch rules follow dpkg: a dependency resolves in the
// depending package's architecture
// (Architecture: all counting as native) unless the target is Multi-Arch:
// foreign, or the dependency says :any and the target is Multi-Arch:
// allowed; one name may be selected for two architectures only when both
// are Multi-Arch: same with equal versions. Conflicts and Breaks are then
// checked across the whole selection.
//
// Errors name the dependency chain, e.g.
// "gcc -> gcc-12 -> cpp-12 (= 12.2.0-14) but 12.2.0-13 is the candidate"
// or "app -> libgone: no candidate (...)".
func (ix *Index) Resolve(want []string, opts ResolveOptions) ([]*Package, error) {
	r, err := newResolver(ix, opts)
	if err != nil {
		return nil, err
	}
	for _, spec := range want {
		rel, err := parseSpec(spec)
		if err != nil {
			return nil, fmt.Errorf("deb: resolve: %w", err)
		}
		r.enqueue(task{rel: rel, arch: r.native, root: strings.TrimSpace(spec)})
	}
	if opts.Essential {
		for _, name := range ix.essentialNames(r) {
			r.enqueue(task{rel: Relation{{Name: name}}, arch: r.native, root: "essential " + name})
		}
	}
	for {
		t, ok := r.pop()
		if !ok {
			break
		}
		if err := r.satisfy(t); err != nil {
			return nil, fmt.Errorf("deb: resolve: %w", err)
		}
	}
	if err := r.checkConflicts(); err != nil {
		return nil, err
	}
	out := make([]*Package, len(r.nodes))
	for i, n := range r.nodes {
		out[i] = n.pkg
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Architecture < out[j].Architecture
	})
	return out, nil
}

// parseSpec parses a wanted-package spec into one relation.
func parseSpec(spec string) (Relation, error) {
	s := strings.TrimSpace(spec)
	// apt's "name=version" form.
	if name, ver, ok := strings.Cut(s, "="); ok && !strings.ContainsAny(s, "(|") {
		s = strings.TrimSpace(name) + " (= " + strings.TrimSpace(ver) + ")"
	}
	rels, err := ParseRelations(s)
	if err != nil {
		return nil, fmt.Errorf("package spec %q: %w", spec, err)
	}
	if len(rels) != 1 {
		return nil, fmt.Errorf("package spec %q: want exactly one package (or alternatives)", spec)
	}
	return rels[0], nil
}

// essentialNames lists the names whose native candidate is Essential:
// yes, sorted.
func (ix *Index) essentialNames(r *resolver) []string {
	seen := map[string]bool{}
	var names []string
	for _, p := range ix.all {
		if p.Essential && r.effArch(p) == r.native && !seen[p.Name] && r.isCandidate(p) {
			seen[p.Name] = true
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}

// resolver is the state of one Resolve call.
type resolver struct {
	ix       *Index
	native   string
	archRank map[string]int // native 0, foreign arches 1.. in option order
	chosen   map[slotKey]*node
	byName   map[string][]*node // chosen nodes per name, for Multi-Arch checks
	nodes    []*node

	forced, choices []task
	fi, ci          int // queue heads
}

// slotKey identifies what dpkg can install once: a name in an
// architecture.
type slotKey struct{ name, arch string }

// node is a selected package and why it was selected.
type node struct {
	pkg    *Package
	arch   string // effective architecture: "all" counts as native
	parent *node  // nil for a root
	root   string // for roots: the spec that asked for it
}

// task is one relation to satisfy on behalf of a package (or a root spec).
type task struct {
	from *node
	rel  Relation
	arch string // architecture the relation is evaluated in
	root string // spec text for roots
}

func newResolver(ix *Index, opts ResolveOptions) (*resolver, error) {
	if err := validateArch(opts.Native); err != nil || opts.Native == "all" {
		return nil, fmt.Errorf("deb: resolve: native architecture %q is not valid", opts.Native)
	}
	r := &resolver{
		ix:       ix,
		native:   opts.Native,
		archRank: map[string]int{opts.Native: 0},
		chosen:   map[slotKey]*node{},
		byName:   map[string][]*node{},
	}
	for i, a := range opts.Foreign {
		if err := validateArch(a); err != nil || a == "all" {
			return nil, fmt.Errorf("deb: resolve: foreign architecture %q is not valid", a)
		}
		if _, dup := r.archRank[a]; !dup {
			r.archRank[a] = i + 1
		}
	}
	return r, nil
}

// effArch is p's architecture for Multi-Arch purposes.
func (r *resolver) effArch(p *Package) string {
	if p.Architecture == "all" {
		return r.native
	}
	return p.Architecture
}

// enqueue schedules a relation: plain ones first, alternatives later.
func (r *resolver) enqueue(t task) {
	if len(t.rel) == 1 {
		r.forced = append(r.forced, t)
	} else {
		r.choices = append(r.choices, t)
	}
}

func (r *resolver) pop() (task, bool) {
	switch {
	case r.fi < len(r.forced):
		r.fi++
		return r.forced[r.fi-1], true
	case r.ci < len(r.choices):
		r.ci++
		return r.choices[r.ci-1], true
	}
	return task{}, false
}

// satisfy makes sure t's relation holds, selecting a package if needed.
func (r *resolver) satisfy(t task) error {
	alts := make([][]cand, len(t.rel))
	root := t.from == nil
	for i, d := range t.rel {
		alts[i] = r.candidates(d, t.arch, root)
		for _, c := range alts[i] {
			if n := r.chosen[slotKey{c.pkg.Name, c.arch}]; n != nil && n.pkg == c.pkg {
				return nil // already satisfied
			}
		}
	}
	var reasons []string
	sep := ": "
	for i, d := range t.rel {
		var why string
		if len(alts[i]) == 0 {
			// A dependency on a package whose candidate misses the
			// version reads as apt says it: "libfoo (<< 1.1) but 1.1
			// is the candidate".
			if why = r.explainNotCandidate(d, t.arch, root); why != "" {
				if len(t.rel) > 1 {
					reasons = append(reasons, d.String()+" "+why)
				} else {
					sep, reasons = " ", append(reasons, why)
				}
				continue
			}
			why = r.explainMissing(d, t.arch)
		} else {
			var blocked []string
			for _, c := range alts[i] {
				if b := r.blocker(c); b != "" {
					blocked = append(blocked, b)
					continue
				}
				r.selectPkg(c, t)
				return nil
			}
			why = strings.Join(blocked, "; ")
		}
		if len(t.rel) > 1 {
			why = d.String() + ": " + why // say which alternative
		}
		reasons = append(reasons, why)
	}
	return fmt.Errorf("%s%s%s", r.chain(t), sep, strings.Join(reasons, "; "))
}

// selectPkg records c as selected for t and schedules its dependencies.
func (r *resolver) selectPkg(c cand, t task) {
	n := &node{pkg: c.pkg, arch: c.arch, parent: t.from}
	if t.from == nil {
		n.root = t.root
	}
	r.chosen[slotKey{c.pkg.Name, c.arch}] = n
	r.byName[c.pkg.Name] = append(r.byName[c.pkg.Name], n)
	r.nodes = append(r.nodes, n)
	for _, field := range [...][]Relation{c.pkg.PreDepends, c.pkg.Depends} {
		for _, rel := range field {
			r.enqueue(task{from: n, rel: rel, arch: n.arch})
		}
	}
}
