package apk

// A port of apk-tools 2.14's solver (src/solver.c) for the case `apk add`
// meets: an empty or existing root, no pinning tags, no --upgrade/--latest.
// Keeping the propagation and selection order of the original is what makes
// the chosen providers identical to apk's, so the structure follows
// solver.c closely.

type nameState struct {
	chosen             provider
	seen               bool
	locked             bool
	noIif              bool
	hasIif             bool
	hasOptions         bool
	reverseDepsDone    bool
	reevaluateDeps     bool
	reevaluateIif      bool
	hasVirtualProvides bool
	inChangeset        bool
	inDirty            bool
	inUnresolved       bool
	requirers          int
	maxDepChain        int
	mergeDepends       int
	mergeProvides      int
	// Changeset generation (apk reuses requirers; kept apart here).
	installedPkg  *pkg  // the root's package of this principal name
	installedName *name // installed name providing this one with a version
	csRequirers   int   // installed/new packages depending on this name
}

type pkgState struct {
	seen               bool
	selectable         bool
	iifTriggered       bool
	iifFailed          bool
	dependenciesMerged bool
	dependenciesUsed   bool
	inChangeset        bool
	err                bool
	conflicts          int
	maxDepChain        int
}

type solver struct {
	db         *db
	dirty      []*name // FIFO, like list_add_tail + list_pop
	unresolved []*name // apk prepends (list_add); we append and scan backwards
	stamp      int     // marker generation for rdepends deduplication
	errors     int
	problems   []string
	changes    []change
	installed  []*pkg // the root's packages, set by generateChangeset
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (ss *solver) markError(p *pkg, why string) {
	if p == nil || p.ss.err {
		return
	}
	p.ss.err = true
	ss.errors++
	ss.problems = append(ss.problems, p.pkg.String()+": "+why)
}

func (ss *solver) queueDirty(n *name) {
	if n.ss.inDirty || n.ss.locked || (n.ss.requirers == 0 && !n.ss.reevaluateIif) {
		return
	}
	n.ss.inDirty = true
	ss.dirty = append(ss.dirty, n)
}

func (ss *solver) queueUnresolved(n *name) {
	if n.ss.locked {
		return
	}
	want := n.ss.requirers > 0 || n.ss.hasIif
	switch {
	case want && !n.ss.inUnresolved:
		n.ss.inUnresolved = true
		ss.unresolved = append(ss.unresolved, n)
	case !want && n.ss.inUnresolved:
		ss.removeUnresolved(n)
	}
}

func (ss *solver) removeUnresolved(n *name) {
	n.ss.inUnresolved = false
	for i, x := range ss.unresolved {
		if x == n {
			ss.unresolved = append(ss.unresolved[:i], ss.unresolved[i+1:]...)
			return
		}
	}
}

func (ss *solver) reevaluateReverseDeps(n *name) {
	for _, n0 := range n.rdepends {
		if !n0.ss.seen {
			continue
		}
		n0.ss.reevaluateDeps = true
		ss.queueDirty(n0)
	}
}

func (ss *solver) reevaluateReverseInstallIf(n *name) {
	for _, n0 := range ss.db.load(n).rinstallIf {
		if !n0.ss.seen || n0.ss.noIif {
			continue
		}
		n0.ss.reevaluateIif = true
		ss.queueDirty(n0)
	}
}

func (ss *solver) disqualify(p *pkg) {
	p.ss.selectable = false
	ss.reevaluateReverseDeps(p.name)
	for _, d := range p.provides {
		ss.reevaluateReverseDeps(d.name)
	}
	ss.reevaluateReverseInstallIf(p.name)
}

func (ss *solver) dependencySatisfiable(d *dep) bool {
	n := d.name
	if n.ss.locked {
		return d.isProvided(n.ss.chosen)
	}
	if n.ss.requirers == 0 && d.isProvided(provider{}) {
		return true
	}
	for _, p := range n.providers {
		if p.pkg.ss.selectable && d.isProvided(p) {
			return true
		}
	}
	return false
}

func (ss *solver) discoverName(n *name) {
	if n.ss.seen {
		return
	}
	ss.db.load(n)
	n.ss.seen = true
	n.ss.noIif = true
	// Register n as a reverse dependency of everything its providers need;
	// only seen names matter to the solver, so doing it here is complete.
	ss.stamp++
	for _, p := range n.providers {
		for i := range p.pkg.depends {
			if dn := p.pkg.depends[i].name; dn.stamp != ss.stamp {
				dn.stamp = ss.stamp
				dn.rdepends = append(dn.rdepends, n)
			}
		}
	}
	for _, p := range n.providers {
		pk := p.pkg
		if !pk.ss.seen {
			pk.ss.seen = true
			pk.ss.selectable = true
			pk.ss.iifFailed = len(pk.installIf) == 0
			for i := range pk.depends {
				dn := pk.depends[i].name
				ss.discoverName(dn)
				pk.ss.maxDepChain = max(pk.ss.maxDepChain, dn.ss.maxDepChain+1)
			}
			// A package picked through a provided name ("so:...") must
			// still trigger install_if rules keyed on its own name, so
			// its principal name is discovered too (apk 2.14 behaviour:
			// ark pulls kde-default-icon-theme via kcoreaddons5).
			ss.discoverName(pk.name)
		}
		n.ss.noIif = n.ss.noIif && pk.ss.iifFailed
		n.ss.maxDepChain = max(n.ss.maxDepChain, pk.ss.maxDepChain)
	}
	for _, n0 := range n.rinstallIf {
		ss.discoverName(n0)
	}
}

func (ss *solver) nameRequirersChanged(n *name) {
	ss.queueUnresolved(n)
	ss.reevaluateReverseInstallIf(n)
	ss.queueDirty(n)
}

func (ss *solver) applyConstraint(d *dep) {
	n := d.name
	if !d.conflict {
		n.ss.requirers++
		if n.ss.requirers == 1 {
			ss.nameRequirersChanged(n)
		}
	}
	for _, p0 := range n.providers {
		if !d.isProvided(p0) {
			p0.pkg.ss.conflicts++
			if p0.pkg.ss.selectable {
				ss.disqualify(p0.pkg)
			}
		}
	}
}

// excludeNonProviders implements "provides transitivity": when every option
// for a name provides must, packages offering must in other ways are out.
func (ss *solver) excludeNonProviders(n, must *name, skipVirtuals bool) {
	if n == must {
		return
	}
	ss.db.load(n)
next:
	for _, p := range n.providers {
		if p.pkg.name == must || !p.pkg.ss.selectable || (skipVirtuals && p.virtual) {
			continue
		}
		for _, d := range p.pkg.provides {
			if d.name == must || (skipVirtuals && d.virtual) {
				continue next
			}
		}
		ss.disqualify(p.pkg)
	}
}

func mergeIndex(index *int, numOptions int) bool {
	if *index != numOptions {
		return false
	}
	*index = numOptions + 1
	return true
}

func mergeIndexComplete(index *int, numOptions int) bool {
	ret := *index == numOptions
	*index = 0
	return ret
}
