package deb

import (
	"fmt"
	"sort"
)

// cand is one package that satisfies a dependency.
type cand struct {
	pkg  *Package
	arch string // effective architecture
}

// enabled reports whether packages of effective architecture a can be
// installed at all.
func (r *resolver) enabled(a string) bool {
	_, ok := r.archRank[a]
	return ok
}

// archSatisfies applies dpkg's Multi-Arch rules: can q satisfy a
// dependency with qualifier depArch from a package of architecture
// fromArch?
func (r *resolver) archSatisfies(q *Package, depArch, fromArch string) bool {
	qa := r.effArch(q)
	if !r.enabled(qa) {
		return false
	}
	switch depArch {
	case "":
		return qa == fromArch || q.MultiArch == "foreign"
	case "any":
		return qa == fromArch || q.MultiArch == "foreign" || q.MultiArch == "allowed"
	case "native":
		return qa == r.native || q.MultiArch == "foreign"
	}
	// An explicit architecture ("dpkg-dev:arm64" as a wanted spec) also
	// accepts the Architecture: all package, as apt does: it installs
	// the same on every architecture.
	return qa == depArch || q.Architecture == "all"
}

// candidate is what apt calls the candidate version of a name in an
// (effective) architecture: the version it installs, and the only one it
// considers when satisfying a dependency. It is the highest version
// across all the indexes (there are no pins), unless a wanted spec
// already selected another version for that slot, as `apt install
// name=version` makes that version the candidate. nil if the index has
// no package of that name and architecture.
func (r *resolver) candidate(name, arch string) *Package {
	if n := r.chosen[slotKey{name, arch}]; n != nil {
		return n.pkg
	}
	// byName is highest version first.
	for _, q := range r.ix.byName[name] {
		if r.effArch(q) == arch {
			return q
		}
	}
	return nil
}

// isCandidate reports whether q is the candidate of its slot.
func (r *resolver) isCandidate(q *Package) bool {
	return r.candidate(q.Name, r.effArch(q)) == q
}

// candidates lists what can satisfy d from fromArch, best first: real
// packages named d.Name (native architecture first, then by version),
// then providers (by Priority, name, architecture, version).
//
// As in apt, a dependency (anyVersion false) is only ever met by the
// candidate of each name and architecture, and by what candidates
// Provide: an older version that would satisfy a versioned dependency is
// not an option. A wanted spec (anyVersion true) may name any version of
// a real package, like `apt install name=version`; it still gets the
// highest one that meets its constraint, which is the candidate whenever
// the candidate does.
func (r *resolver) candidates(d Dep, fromArch string, anyVersion bool) []cand {
	var real, virt []cand
	for _, q := range r.ix.byName[d.Name] {
		if r.archSatisfies(q, d.Arch, fromArch) && VersionSatisfies(q.Version, d.Op, d.Version) &&
			(anyVersion || r.isCandidate(q)) {
			real = append(real, cand{q, r.effArch(q)})
		}
	}
	for _, pv := range r.ix.provides[d.Name] {
		if !r.archSatisfies(pv.pkg, d.Arch, fromArch) || !r.isCandidate(pv.pkg) {
			continue
		}
		// A versioned dependency is only met by a versioned provide.
		if d.Op != "" && (pv.version == "" || !VersionSatisfies(pv.version, d.Op, d.Version)) {
			continue
		}
		virt = append(virt, cand{pv.pkg, r.effArch(pv.pkg)})
	}
	// byName is already highest version first, and the sort is stable.
	sort.SliceStable(real, func(i, j int) bool { return r.archRank[real[i].arch] < r.archRank[real[j].arch] })
	sort.SliceStable(virt, func(i, j int) bool {
		a, b := virt[i], virt[j]
		if pa, pb := priorityRank(a.pkg.Priority), priorityRank(b.pkg.Priority); pa != pb {
			return pa < pb
		}
		if a.pkg.Name != b.pkg.Name {
			return a.pkg.Name < b.pkg.Name
		}
		if ra, rb := r.archRank[a.arch], r.archRank[b.arch]; ra != rb {
			return ra < rb
		}
		return CompareVersions(a.pkg.Version, b.pkg.Version) > 0
	})
	return append(real, virt...)
}

// priorityRank orders providers the way an archive's Priority field
// ranks them: required first.
func priorityRank(p string) int {
	switch p {
	case "required":
		return 0
	case "important":
		return 1
	case "standard":
		return 2
	case "optional":
		return 3
	case "extra":
		return 4
	}
	return 5
}

// blocker says why candidate c cannot be added to the selection, or "".
func (r *resolver) blocker(c cand) string {
	if n := r.chosen[slotKey{c.pkg.Name, c.arch}]; n != nil {
		return fmt.Sprintf("%s %s is already selected (%s)", r.label(n), n.pkg.Version, r.nodeChain(n))
	}
	for _, n := range r.byName[c.pkg.Name] {
		if c.pkg.MultiArch != "same" || n.pkg.MultiArch != "same" {
			return fmt.Sprintf("%s %s cannot be co-installed with %s (%s): not both Multi-Arch: same",
				c.pkg.Name+":"+c.arch, c.pkg.Version, n.pkg.Name+":"+n.arch, r.nodeChain(n))
		}
		if n.pkg.Version != c.pkg.Version {
			return fmt.Sprintf("%s %s cannot be co-installed with %s %s (%s): Multi-Arch: same needs equal versions",
				c.pkg.Name+":"+c.arch, c.pkg.Version, n.pkg.Name+":"+n.arch, n.pkg.Version, r.nodeChain(n))
		}
	}
	return ""
}
