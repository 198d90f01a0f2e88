package apk

// Changeset generation: a port of apk's generate_changeset and its cset_*
// helpers. It walks from the world through the chosen packages, records
// for each principal name the installed package it replaces (if any), and
// removes installed packages nothing chose any more. Only packages reached
// this way (or pulled in by satisfied install_if, or already installed and
// still chosen) end up in the root; the solver may lock names that end up
// unused.

// change is one record of apk's changeset: old is the installed package
// (nil for an install), new the package the root ends with (nil for a
// removal). old == new means the package is kept as is.
type change struct {
	old, new *pkg
}

func (ss *solver) generateChangeset(world []dep) {
	// The root's packages, materialized, in installed order.
	inst := make([]*pkg, 0, len(ss.db.installed))
	for _, i := range ss.db.installed {
		inst = append(inst, ss.db.pkgAt(i))
	}
	ss.installed = inst
	for _, p := range inst {
		p.name.ss.installedPkg = p
		p.name.ss.installedName = p.name
		for _, d := range p.provides {
			if !d.virtual {
				d.name.ss.installedName = p.name
			}
		}
	}
	for _, p := range inst {
		ss.csetTrackDepsAdded(p)
	}
	for _, p := range inst {
		ss.csetCheckRemovalByDeps(p)
	}
	for i := range world {
		ss.csetDep(nil, &world[i])
	}
	// Installed names not reached from the world: kept when still chosen
	// (as a change from themselves), removed otherwise.
	for _, p := range inst {
		ss.csetNameChange(p.name)
	}
}

func (ss *solver) recordChange(old, new *pkg) {
	ss.changes = append(ss.changes, change{old: old, new: new})
}

func (ss *solver) csetTrackDepsAdded(p *pkg) {
	for i := range p.depends {
		d := &p.depends[i]
		if d.conflict || d.name.ss.installedName == nil {
			continue
		}
		d.name.ss.installedName.ss.csRequirers++
	}
}

func (ss *solver) csetTrackDepsRemoved(p *pkg) {
	for i := range p.depends {
		d := &p.depends[i]
		if d.conflict || d.name.ss.installedName == nil {
			continue
		}
		d.name.ss.installedName.ss.csRequirers--
		if d.name.ss.installedName.ss.csRequirers > 0 {
			continue
		}
		if p0 := d.name.ss.installedPkg; p0 != nil {
			ss.csetNameRemove(p0)
		}
	}
}

// csetCheckRemovalByDeps removes an installed package nothing requires and
// whose name has no chosen provider. A name with no requirers may still be
// satisfied by another provider; that case is handled as a change later.
func (ss *solver) csetCheckRemovalByDeps(p *pkg) {
	if p.name.ss.csRequirers == 0 && p.name.ss.chosen.pkg == nil {
		ss.csetNameRemove(p)
	}
}

func (ss *solver) csetCheckRemovalByIif(n *name) {
	p := n.ss.installedPkg
	if p == nil || n.ss.inChangeset || n.ss.chosen.pkg != nil {
		return
	}
	for i := range p.installIf {
		d := &p.installIf[i]
		if d.name.ss.inChangeset && d.name.ss.chosen.pkg == nil {
			ss.csetCheckRemovalByDeps(p)
			return
		}
	}
}

func (ss *solver) csetNameRemoveOrphan(n *name) {
	if n.ss.inChangeset {
		return
	}
	n.ss.inChangeset = true
	if p := n.ss.chosen.pkg; (p == nil || p.name != n) && n.ss.installedPkg != nil {
		ss.csetNameRemove(n.ss.installedPkg)
	}
}

func (ss *solver) csetDep(parent *pkg, d *dep) {
	n := d.name
	if !d.isProvided(n.ss.chosen) {
		if parent == nil {
			ss.errors++
			ss.problems = append(ss.problems, "world: "+depString(d)+" cannot be satisfied (selected "+pkgString(n.ss.chosen.pkg)+")")
		} else {
			ss.markError(parent, "dependency "+depString(d)+" cannot be satisfied (selected "+pkgString(n.ss.chosen.pkg)+")")
		}
	}
	ss.csetNameChange(n)
	if p := n.ss.chosen.pkg; p != nil && p.ss.err && parent != nil {
		ss.markError(parent, "depends on broken "+p.pkg.String())
	}
}

func (ss *solver) csetNameChange(n *name) {
	if n.ss.inChangeset {
		return
	}
	ss.csetNameRemoveOrphan(n)
	p := n.ss.chosen.pkg
	if p == nil || p.ss.inChangeset {
		return
	}
	p.ss.inChangeset = true
	ss.csetNameRemoveOrphan(p.name)
	for _, d := range p.provides {
		ss.csetNameRemoveOrphan(d.name)
	}
	old := p.name.ss.installedPkg
	if old != nil {
		for _, n0 := range ss.db.load(old.name).rinstallIf {
			ss.csetCheckRemovalByIif(n0)
		}
	}
	for i := range p.depends {
		ss.csetDep(p, &p.depends[i])
	}
	ss.recordChange(old, p)
	for _, n0 := range ss.db.load(p.name).rinstallIf {
		ss.csetInstallByIif(n0)
	}
	ss.csetTrackDepsAdded(p)
	if old != nil {
		ss.csetTrackDepsRemoved(old)
	}
}

// csetNameRemove removes installed package p unless its name is still
// chosen, taking along installed packages whose dependencies p satisfied.
func (ss *solver) csetNameRemove(p *pkg) {
	n := p.name
	if p.ss.inChangeset || (n.ss.chosen.pkg != nil && n.ss.chosen.pkg.name == n) {
		return
	}
	n.ss.inChangeset = true
	p.ss.inChangeset = true
	for _, p0 := range ss.installed {
		for i := range p0.depends {
			if d0 := &p0.depends[i]; !d0.conflict && satisfiedBy(d0, p) {
				ss.csetNameRemove(p0)
			}
		}
	}
	for _, n0 := range ss.db.load(n).rinstallIf {
		ss.csetCheckRemovalByIif(n0)
	}
	ss.recordChange(p, nil)
	ss.csetTrackDepsRemoved(p)
}

// satisfiedBy is apk_dep_analyze(d, p) == APK_DEP_SATISFIES: d names p or
// one of its provides, and p meets the version.
func satisfiedBy(d *dep, p *pkg) bool {
	if d.name == p.name {
		return d.isProvided(provider{pkg: p, version: p.pkg.Version})
	}
	for _, pr := range p.provides {
		if pr.name == d.name {
			return d.isProvided(provider{pkg: p, version: pr.version, virtual: pr.virtual})
		}
	}
	return false
}

// csetInstallByIif installs n's chosen package once every install_if
// condition names a package already in the changeset.
func (ss *solver) csetInstallByIif(n *name) {
	p := n.ss.chosen.pkg
	if p == nil || !n.ss.seen || n.ss.inChangeset {
		return
	}
	for i := range p.installIf {
		d := &p.installIf[i]
		if !d.name.ss.inChangeset || !d.isProvided(d.name.ss.chosen) {
			return
		}
	}
	ss.csetNameChange(n)
}

func depString(d *dep) string {
	s := d.name.name
	if d.mask != maskAny {
		s += opString(d.mask) + d.version
	}
	if d.conflict {
		s = "!" + s
	}
	return s
}

func opString(mask int) string {
	switch mask {
	case maskLess:
		return "<"
	case maskLess | maskEqual:
		return "<="
	case maskEqual | maskFuzzy:
		return "~"
	case maskEqual:
		return "="
	case maskGreater | maskEqual:
		return ">="
	case maskGreater:
		return ">"
	case maskCsum:
		return "><"
	}
	return "?"
}
