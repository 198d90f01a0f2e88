package apk

import "math/bits"

// reconsiderName propagates constraints down from name n: it drops
// providers whose dependencies became unsatisfiable, re-checks install_if,
// and applies dependencies shared by every remaining option.
func (ss *solver) reconsiderName(n *name) {
	reevalDeps, reevalIif := n.ss.reevaluateDeps, n.ss.reevaluateIif
	n.ss.reevaluateDeps, n.ss.reevaluateIif = false, false

	var first *pkg
	numOptions, hasIif, noIif := 0, false, true
	for _, p := range n.providers {
		pk := p.pkg
		pk.ss.dependenciesMerged = false
		if reevalDeps && pk.ss.selectable {
			for i := range pk.depends {
				if !ss.dependencySatisfiable(&pk.depends[i]) {
					ss.disqualify(pk)
					break
				}
			}
		}
		if !pk.ss.selectable {
			continue
		}
		if reevalIif && !pk.ss.iifTriggered && !pk.ss.iifFailed {
			pk.ss.iifTriggered = true
			for i := range pk.installIf {
				d := &pk.installIf[i]
				if !d.name.ss.locked {
					pk.ss.iifTriggered = false
					break
				}
				if !d.isProvided(d.name.ss.chosen) {
					pk.ss.iifTriggered, pk.ss.iifFailed = false, true
					break
				}
			}
		}
		hasIif = hasIif || pk.ss.iifTriggered
		noIif = noIif && pk.ss.iifFailed
		if n.ss.requirers == 0 {
			continue
		}
		// Merge dependencies common to all options.
		pk.ss.dependenciesMerged = true
		if first == nil {
			first = pk
		}
		for i := range pk.depends {
			if !pk.depends[i].conflict {
				mergeIndex(&pk.depends[i].name.ss.mergeDepends, numOptions)
			}
		}
		if mergeIndex(&pk.name.ss.mergeProvides, numOptions) {
			pk.name.ss.hasVirtualProvides = pk.name.ss.hasVirtualProvides || p.virtual
		}
		for _, d := range pk.provides {
			if mergeIndex(&d.name.ss.mergeProvides, numOptions) {
				d.name.ss.hasVirtualProvides = d.name.ss.hasVirtualProvides || d.virtual
			}
		}
		numOptions++
	}
	n.ss.hasOptions = numOptions > 1
	n.ss.hasIif = hasIif
	n.ss.noIif = noIif
	ss.queueUnresolved(n)

	if first != nil {
		for _, p := range n.providers {
			p.pkg.ss.dependenciesUsed = p.pkg.ss.dependenciesMerged
		}
		if numOptions == 1 {
			for i := range first.depends {
				d := &first.depends[i]
				if mergeIndexComplete(&d.name.ss.mergeDepends, numOptions) {
					ss.applyConstraint(d)
				}
			}
		} else {
			for i := range first.depends {
				n0 := first.depends[i].name
				if mergeIndexComplete(&n0.ss.mergeDepends, numOptions) && n0.ss.requirers == 0 {
					n0.ss.requirers++
					ss.nameRequirersChanged(n0)
				}
			}
		}
		if mergeIndexComplete(&first.name.ss.mergeProvides, numOptions) {
			ss.excludeNonProviders(first.name, n, first.name.ss.hasVirtualProvides)
		}
		for _, d := range first.provides {
			if mergeIndexComplete(&d.name.ss.mergeProvides, numOptions) {
				ss.excludeNonProviders(d.name, n, d.name.ss.hasVirtualProvides)
			}
		}
		first.name.ss.hasVirtualProvides = false
		for _, d := range first.provides {
			d.name.ss.hasVirtualProvides = false
		}
	}

	n.ss.reverseDepsDone = true
	for _, n0 := range n.rdepends {
		if n0.ss.seen && !n0.ss.locked {
			n.ss.reverseDepsDone = false
			break
		}
	}
}

// versionOrder compares provided versions; ok is false when exactly one side
// is unversioned, which apk treats as "no preference".
func versionOrder(a, b provider) (c int, ok bool) {
	if a.virtual || b.virtual {
		return 0, a.virtual && b.virtual
	}
	return CompareVersions(a.version, b.version), true
}

// compareProviders is apk's compare_providers for solver flags 0 (plain
// `apk add`: no --upgrade, --latest or pinning tags): > 0 means a is
// preferred. Pinning checks (tag_ok, tag_preferred) are always equal
// without tags and are left out.
func compareProviders(a, b provider) int {
	pa, pb := a.pkg, b.pkg
	if pa == nil || pb == nil {
		return b2i(pa != nil) - b2i(pb != nil)
	}
	if r := b2i(pa.ss.selectable) - b2i(pb.ss.selectable); r != 0 {
		return r
	}
	if r := b2i(pa.ss.dependenciesUsed) - b2i(pb.ss.dependenciesUsed); r != 0 {
		return r
	}
	if r := pb.ss.conflicts - pa.ss.conflicts; r != 0 {
		return r
	}
	// Prefer installed: without --upgrade apk keeps what the root has,
	// even over a higher version in a repository.
	if r := b2i(pa.installed) - b2i(pb.installed); r != 0 {
		return r
	}
	if c, ok := versionOrder(a, b); ok && c != 0 {
		return c
	}
	if pa.name == pb.name {
		if c := CompareVersions(pa.pkg.Version, pb.pkg.Version); c != 0 {
			return c
		}
	}
	if r := pa.priority - pb.priority; r != 0 {
		return r
	}
	// Prefer the lowest (first configured) repository; ffs as in apk, so
	// a package in no repository (installed only) counts as 0.
	return ffs(pb.repos) - ffs(pa.repos)
}

func ffs(x uint64) int {
	if x == 0 {
		return 0
	}
	return bits.TrailingZeros64(x) + 1
}

func (ss *solver) assignName(n *name, p provider) {
	if n.ss.locked {
		// Several packages may provide the same name without a version.
		if p.virtual && n.ss.chosen.virtual {
			return
		}
		ss.markError(p.pkg, "conflict: provides "+n.name+" also provided by "+pkgString(n.ss.chosen.pkg))
		ss.markError(n.ss.chosen.pkg, "conflict: provides "+n.name+" also provided by "+pkgString(p.pkg))
		return
	}
	ss.db.load(n)
	n.ss.locked = true
	n.ss.chosen = p
	if n.ss.inUnresolved {
		ss.removeUnresolved(n)
	}
	if n.ss.inDirty {
		n.ss.inDirty = false
		for i, x := range ss.dirty {
			if x == n {
				ss.dirty = append(ss.dirty[:i], ss.dirty[i+1:]...)
				break
			}
		}
	}
	for _, p0 := range n.providers {
		if p0.pkg == p.pkg || (p.virtual && p0.virtual) {
			continue
		}
		ss.disqualify(p0.pkg)
	}
	ss.reevaluateReverseDeps(n)
	ss.reevaluateReverseInstallIf(n)
}

func pkgString(p *pkg) string {
	if p == nil {
		return "nothing"
	}
	return p.pkg.String()
}

func (ss *solver) selectPackage(n *name) {
	chosen := provider{virtual: true}
	if n.ss.requirers > 0 || n.ss.hasIif {
		for _, p := range n.providers {
			if n.ss.requirers == 0 && !p.pkg.ss.iifTriggered {
				continue
			}
			// Virtual names without provider_priority are not picked
			// automatically unless there is a single provider.
			if p.virtual && p.pkg.name.ss.requirers == 0 && p.pkg.priority == 0 && len(n.providers) > 1 {
				continue
			}
			if compareProviders(p, chosen) > 0 {
				chosen = p
			}
		}
	}
	pk := chosen.pkg
	if pk == nil {
		ss.assignName(n, provider{virtual: true})
		if n.ss.requirers > 0 {
			ss.errors++
			ss.problems = append(ss.problems, "no selectable provider for "+n.name)
		}
		return
	}
	if !pk.ss.selectable {
		ss.markError(pk, "broken: its dependencies or conflicts cannot be satisfied")
	}
	ss.assignName(pk.name, provider{pkg: pk, version: pk.pkg.Version})
	for _, d := range pk.provides {
		ss.assignName(d.name, provider{pkg: pk, version: d.version, virtual: d.virtual})
	}
	for i := range pk.depends {
		ss.applyConstraint(&pk.depends[i])
	}
}

// nameBefore is compare_name_dequeue(a, b) < 0: required names first, then
// real before virtual, then the longest dependency chain.
func nameBefore(a, b *name) bool {
	if r := b2i(a.ss.requirers > 0) - b2i(b.ss.requirers > 0); r != 0 {
		return r > 0
	}
	if r := a.priority - b.priority; r != 0 {
		return r < 0
	}
	return a.ss.maxDepChain > b.ss.maxDepChain
}

// solve runs apk_solver_solve for world (already sorted by name).
func (ss *solver) solve(world []dep) {
	for i := range world {
		ss.discoverName(world[i].name)
	}
	for i := range world {
		ss.applyConstraint(&world[i])
	}
	for {
		for len(ss.dirty) > 0 {
			n := ss.dirty[0]
			ss.dirty = ss.dirty[1:]
			n.ss.inDirty = false
			ss.reconsiderName(n)
		}
		var pick *name
		for i := len(ss.unresolved) - 1; i >= 0; i-- { // head of apk's list first
			n0 := ss.unresolved[i]
			if n0.ss.reverseDepsDone && n0.ss.requirers > 0 && !n0.ss.hasOptions {
				pick = n0
				break
			}
			if pick == nil || nameBefore(n0, pick) {
				pick = n0
			}
		}
		if pick == nil {
			break
		}
		ss.selectPackage(pick)
	}
	ss.generateChangeset(world)
}
