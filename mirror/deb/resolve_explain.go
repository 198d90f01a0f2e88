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
