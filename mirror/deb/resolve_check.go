package deb

import (
	"errors"
	"fmt"
	"sort"
)

// checkConflicts refuses a selection in which a package's Conflicts or
// Breaks matches another selected package. As in dpkg, an unqualified
// name there matches every architecture, and a package never conflicts
// with its own name (the Provides+Conflicts idiom for exclusive virtual
// packages, and other architectures of itself, which blocker handles).
func (r *resolver) checkConflicts() error {
	type provided struct {
		n       *node
		version string
	}
	provides := map[string][]provided{}
	for _, n := range r.nodes {
		for _, rel := range n.pkg.Provides {
			for _, d := range rel {
				provides[d.Name] = append(provides[d.Name], provided{n, d.Version})
			}
		}
	}
	nodes := append([]*node(nil), r.nodes...)
	sort.Slice(nodes, func(i, j int) bool {
		a, b := nodes[i].pkg, nodes[j].pkg
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return nodes[i].arch < nodes[j].arch
	})
	var errs []error
	report := func(n *node, field string, d Dep, m *node, how string) {
		errs = append(errs, fmt.Errorf("deb: resolve: %s %s (%s) %s: %s, but %s %s is selected%s (%s)",
			r.label(n), n.pkg.Version, r.nodeChain(n), field, d, r.label(m), m.pkg.Version, how, r.nodeChain(m)))
	}
	for _, n := range nodes {
		for _, f := range [...]struct {
			name string
			rels []Relation
		}{{"Conflicts", n.pkg.Conflicts}, {"Breaks", n.pkg.Breaks}} {
			for _, rel := range f.rels {
				for _, d := range rel {
					for _, m := range r.byName[d.Name] {
						if m.pkg.Name != n.pkg.Name && r.conflictArch(d, m) && VersionSatisfies(m.pkg.Version, d.Op, d.Version) {
							report(n, f.name, d, m, "")
						}
					}
					for _, pv := range provides[d.Name] {
						m := pv.n
						if m.pkg.Name == n.pkg.Name || m.pkg.Name == d.Name || !r.conflictArch(d, m) {
							continue
						}
						if d.Op == "" || (pv.version != "" && VersionSatisfies(pv.version, d.Op, d.Version)) {
							report(n, f.name, d, m, " and provides "+d.Name)
						}
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// conflictArch applies the architecture qualifier of a Conflicts/Breaks
// entry, whose default is "any" rather than the package's own.
func (r *resolver) conflictArch(d Dep, m *node) bool {
	switch d.Arch {
	case "", "any":
		return true
	case "native":
		return m.arch == r.native
	}
	return m.arch == d.Arch
}
