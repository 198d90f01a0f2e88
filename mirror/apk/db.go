package apk

import (
	"fmt"
	"strings"
)

// db is the package database the solver works on, shaped like apk-tools'
// struct apk_database: names own provider lists and reverse dependency
// lists, packages own parsed dependency atoms.
//
// Unlike apk it is built lazily: a name's providers are materialized, and
// a package's atoms parsed, only when the solver reaches them. A resolve
// touches a few hundred of the 23,000 packages of main+community, so this
// keeps Resolve far below the cost of parsing the index.
type db struct {
	names map[string]*name
	// provIndex maps a name to the packages providing it, in repository
	// and index order (the order apk_db_pkg_add registers providers).
	provIndex map[string][]provRef
	// iifIndex maps an install_if target to the names whose providers
	// carry that install_if (apk's rinstall_if), precomputed because it
	// points backwards.
	iifIndex map[string][]string
	iifSeen  map[string]struct{} // target + "\x00" + name pairs already in iifIndex
	pkgs     []*pkg              // by package index; nil until materialized
	src      []srcPkg
	// installed lists the packages of the root, in installed-database
	// order (apk's installed.packages list).
	installed []int32
	err       error // first parse error met while materializing
}

type srcPkg struct {
	p         *Package
	repos     uint64 // bit i+1 for repository i; bit 0 is apk's cache
	installed bool   // in the root's installed database (apk's pkg->ipkg)
}

// provRef is one providing package; prov is the index in Provides, or -1
// when the package provides the name as its own.
type provRef struct {
	pkg  int32
	prov int32
}

type name struct {
	name       string
	loaded     bool
	providers  []provider
	rdepends   []*name
	rinstallIf []*name
	priority   int // 0: only real packages, 1: mixed, 2: only virtual providers
	stamp      int // scratch marker for deduplicating rdepends
	ss         nameState
}

// provider is a package offering a name; virtual means the name is provided
// without a version (apk's &apk_null_blob).
type provider struct {
	pkg     *pkg
	version string
	virtual bool
}

type pkg struct {
	pkg       *Package
	name      *name
	depends   []dep
	provides  []dep
	installIf []dep
	priority  int
	repos     uint64
	installed bool
	ss        pkgState
}

type dep struct {
	name     *name
	version  string
	virtual  bool // no version given (provides only)
	mask     int
	conflict bool
}

// atomName is the name part of a dependency atom, without parsing it fully.
func atomName(a string) string {
	a = strings.TrimPrefix(a, "!")
	if i := strings.IndexAny(a, "<>=~"); i >= 0 {
		return a[:i]
	}
	return a
}

// newDB indexes the root's installed packages, then repositories in order,
// as apk_db_open reads the installed database before the indexes.
// Identical packages (same checksum) listed several times are merged, as
// apk_db_pkg_add does: an installed package that a repository also lists
// is one package, installed and available from that repository.
func newDB(repos []Repository, installed []Package) *db {
	n := len(installed)
	for _, r := range repos {
		n += len(r.Packages)
	}
	d := &db{
		names:     map[string]*name{},
		provIndex: make(map[string][]provRef, n*2),
		iifIndex:  map[string][]string{},
		iifSeen:   map[string]struct{}{},
		src:       make([]srcPkg, 0, n),
	}
	byID := make(map[string]int32, n)
	add := func(p *Package, repos uint64, inst bool) {
		id := p.Checksum
		if id == "" {
			id = "\x00" + p.Name + "-" + p.Version
		}
		if old, ok := byID[id]; ok {
			d.src[old].repos |= repos
			if inst && !d.src[old].installed {
				d.src[old].installed = true
				d.installed = append(d.installed, old)
			}
			return
		}
		idx := int32(len(d.src))
		byID[id] = idx
		d.src = append(d.src, srcPkg{p: p, repos: repos, installed: inst})
		if inst {
			d.installed = append(d.installed, idx)
		}
		d.provIndex[p.Name] = append(d.provIndex[p.Name], provRef{idx, -1})
		for j, pr := range p.Provides {
			pn := atomName(pr)
			d.provIndex[pn] = append(d.provIndex[pn], provRef{idx, int32(j)})
		}
		if len(p.InstallIf) > 0 {
			d.indexInstallIf(p)
		}
	}
	for i := range installed {
		add(&installed[i], 0, true)
	}
	for ri, r := range repos {
		for i := range r.Packages {
			add(&r.Packages[i], 1<<uint(ri+1), false)
		}
	}
	d.pkgs = make([]*pkg, len(d.src))
	return d
}

func (d *db) indexInstallIf(p *Package) {
	provided := []string{p.Name}
	for _, pr := range p.Provides {
		provided = append(provided, atomName(pr))
	}
	for _, a := range p.InstallIf {
		t := atomName(a)
		for _, m := range provided {
			// A set, not a scan: keys like "docs" have thousands of members.
			k := t + "\x00" + m
			if _, seen := d.iifSeen[k]; !seen {
				d.iifSeen[k] = struct{}{}
				d.iifIndex[t] = append(d.iifIndex[t], m)
			}
		}
	}
}

// getName returns the name object for s, creating it unloaded.
func (d *db) getName(s string) *name {
	if n := d.names[s]; n != nil {
		return n
	}
	n := &name{name: s}
	d.names[s] = n
	return n
}

// load materializes n's providers and reverse install_if list and computes
// its priority (apk_db_name_rdepends); it returns n for chaining.
func (d *db) load(n *name) *name {
	if n.loaded {
		return n
	}
	n.loaded = true
	virtual := 0
	for _, ref := range d.provIndex[n.name] {
		p := d.pkgAt(ref.pkg)
		if ref.prov < 0 {
			n.providers = append(n.providers, provider{pkg: p, version: p.pkg.Version})
			continue
		}
		pr := p.provides[ref.prov]
		n.providers = append(n.providers, provider{pkg: p, version: pr.version, virtual: pr.virtual})
		virtual++
	}
	switch {
	case virtual == 0:
		n.priority = 0
	case virtual != len(n.providers):
		n.priority = 1
	default:
		n.priority = 2
	}
	for _, m := range d.iifIndex[n.name] {
		n.rinstallIf = append(n.rinstallIf, d.getName(m))
	}
	return n
}

// pkgAt materializes package i, parsing its atoms.
func (d *db) pkgAt(i int32) *pkg {
	if p := d.pkgs[i]; p != nil {
		return p
	}
	s := d.src[i]
	p := &pkg{pkg: s.p, name: d.getName(s.p.Name), priority: s.p.ProviderPriority, repos: s.repos, installed: s.installed}
	p.depends = d.parseDeps(s.p, s.p.Depends, false)
	p.provides = d.parseDeps(s.p, s.p.Provides, true)
	p.installIf = d.parseDeps(s.p, s.p.InstallIf, false)
	d.pkgs[i] = p
	return p
}

// parseDeps parses atoms. A malformed atom is recorded in d.err (Resolve
// then fails, naming the package) instead of panicking mid-solve.
func (d *db) parseDeps(p *Package, atoms []string, provides bool) []dep {
	out := make([]dep, 0, len(atoms))
	for _, a := range atoms {
		pd, err := ParseDependency(a)
		if err != nil {
			if d.err == nil {
				d.err = fmt.Errorf("%s: %w", p, err)
			}
			// Keep positions stable: provIndex refers to provides by index.
			pd = Dependency{Name: atomName(a)}
		}
		out = append(out, d.newDep(pd, provides))
	}
	return out
}

func (d *db) newDep(pd Dependency, provides bool) dep {
	return dep{
		name:     d.getName(pd.Name),
		version:  pd.Version,
		virtual:  provides && pd.Op == "",
		mask:     pd.mask(),
		conflict: pd.Conflict,
	}
}

// isProvided reports whether provider p satisfies d (apk_dep_is_provided).
// For a conflict "!x" it reports whether p is acceptable.
func (d *dep) isProvided(p provider) bool {
	if p.pkg == nil {
		return d.conflict
	}
	switch d.mask {
	case maskCsum:
		return p.pkg.pkg.Checksum == d.version
	case maskAny:
		return !d.conflict
	}
	if p.virtual {
		return d.conflict
	}
	if resultBit(compareVersions(p.version, d.version, d.mask&maskFuzzy != 0))&d.mask != 0 {
		return !d.conflict
	}
	return d.conflict
}

func resultBit(c int) int {
	switch {
	case c < 0:
		return maskLess
	case c > 0:
		return maskGreater
	}
	return maskEqual
}
