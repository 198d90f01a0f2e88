package deb

import (
	"fmt"
	"strings"
)

// Error texts: dependency chains and why nothing could be chosen.

// label names a node in a chain: "name", or "name:arch" off-native.
func (r *resolver) label(n *node) string {
	if n.arch != r.native {
		return n.pkg.Name + ":" + n.arch
	}
	return n.pkg.Name
}

// chain renders "root -> ... -> relation" for t.
func (r *resolver) chain(t task) string {
	if t.from == nil {
		return t.root
	}
	return r.nodeChain(t.from) + " -> " + t.rel.String()
}

// nodeChain renders the path from a root to n.
func (r *resolver) nodeChain(n *node) string {
	var parts []string
	for m := n; m != nil; m = m.parent {
		parts = append(parts, r.label(m))
		if m.parent == nil && m.root != "" && m.root != r.label(m) {
			parts = append(parts, m.root)
		}
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, " -> ")
}

// explainNotCandidate says why a dependency d from fromArch is not met
// when a package of that name has a candidate in an architecture d
// accepts: apt's "but 1.1 is to be installed", here "but 1.1 is the
// candidate", with the older versions that would have met d. It returns
// "" when that is not the reason (no such package: see explainMissing),
// and for wanted specs, which may pick any version.
func (r *resolver) explainNotCandidate(d Dep, fromArch string, root bool) string {
	if root {
		return ""
	}
	var cands, older []*Package
	for _, q := range r.ix.byName[d.Name] {
		if !r.archSatisfies(q, d.Arch, fromArch) {
			continue
		}
		if r.isCandidate(q) {
			cands = append(cands, q)
		} else if VersionSatisfies(q.Version, d.Op, d.Version) {
			older = append(older, q)
		}
	}
	if len(cands) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("but ")
	for i, c := range cands {
		if i > 0 {
			b.WriteString(" and ")
		}
		b.WriteString(c.Version)
		if len(cands) > 1 {
			b.WriteString(" (" + r.effArch(c) + ")")
		}
		if n := r.chosen[slotKey{c.Name, r.effArch(c)}]; n != nil && n.parent == nil && n.root != "" {
			fmt.Fprintf(&b, " (selected by the wanted spec %q)", n.root)
		}
	}
	if len(cands) > 1 {
		b.WriteString(" are the candidates")
	} else {
		b.WriteString(" is the candidate")
	}
	if len(older) > 0 {
		var have []string
		for _, q := range older {
			have = append(have, describeCandidate(q))
		}
		const maxShown = 3
		if len(have) > maxShown {
			have = append(have[:maxShown], fmt.Sprintf("%d more", len(have)-maxShown))
		}
		spec := older[0].Name
		if a := r.effArch(older[0]); a != r.native {
			spec += ":" + a
		}
		fmt.Fprintf(&b, " (apt considers only the candidate, the highest version; %s would satisfy it: want %q to install it instead)",
			strings.Join(have, ", "), spec+"="+older[0].Version)
	}
	return b.String()
}

// explainMissing says why d has no candidate at all from fromArch.
func (r *resolver) explainMissing(d Dep, fromArch string) string {
	var have []string
	for _, q := range r.ix.byName[d.Name] {
		have = append(have, describeCandidate(q))
	}
	for _, pv := range r.ix.provides[d.Name] {
		prov := "provided by " + describeCandidate(pv.pkg)
		if pv.version != "" {
			prov += " as version " + pv.version
		}
		if c := r.candidate(pv.pkg.Name, r.effArch(pv.pkg)); c != pv.pkg {
			prov += ", which is not the candidate (" + c.Version + ")"
		}
		have = append(have, prov)
	}
	if len(have) == 0 {
		return "no candidate (no package or provider of that name)"
	}
	const maxShown = 6
	if len(have) > maxShown {
		have = append(have[:maxShown], fmt.Sprintf("%d more", len(have)-maxShown))
	}
	where := fromArch
	if d.Arch != "" && d.Arch != "any" {
		where = d.Arch
	}
	return fmt.Sprintf("no candidate for %s (have %s)", where, strings.Join(have, ", "))
}

func describeCandidate(q *Package) string {
	s := q.Name + " " + q.Version + " " + q.Architecture
	if q.MultiArch != "" && q.MultiArch != "no" {
		s += " Multi-Arch: " + q.MultiArch
	}
	return s
}
