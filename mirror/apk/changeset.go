package apk

// generateChangeset walks from the world through chosen packages, as apk's
// generate_changeset does for an empty root. Only packages reached this way
// (or pulled in by satisfied install_if) are installed; the solver may lock
// names that end up unused.
func (ss *solver) generateChangeset(world []dep) {
	for i := range world {
		ss.csetDep(nil, &world[i])
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
	n.ss.inChangeset = true
	p := n.ss.chosen.pkg
	if p == nil || p.ss.inChangeset {
		return
	}
	p.ss.inChangeset = true
	p.name.ss.inChangeset = true
	for _, d := range p.provides {
		d.name.ss.inChangeset = true
	}
	for i := range p.depends {
		ss.csetDep(p, &p.depends[i])
	}
	ss.changes = append(ss.changes, p)
	for _, n0 := range ss.db.load(p.name).rinstallIf {
		ss.csetInstallByIif(n0)
	}
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
