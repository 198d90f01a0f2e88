package rootfs

import (
	"fmt"

	"github.com/lkpkg/lkpkg/mirror/deb"
)

// relation is one entry of a Replaces (or similar) field: a package name
// and an optional version constraint.
type relation struct {
	name    string
	op      string // "", "<<", "<=", "=", ">=", ">>"
	version string
}

// parseRelations parses a comma-separated relation field such as
// "libfoo (<< 1.2-1), bar:any" with deb.ParseRelations, the one parser of
// Debian relationship fields. Architecture qualifiers are dropped:
// Replaces of one package by another is decided by name and version.
// Alternatives ("a | b") have no meaning in Replaces and are refused.
func parseRelations(field string) ([]relation, error) {
	rels, err := deb.ParseRelations(field)
	if err != nil {
		return nil, err
	}
	var out []relation
	for _, r := range rels {
		if len(r) != 1 {
			return nil, fmt.Errorf("bad relation %q: alternatives in Replaces", r)
		}
		out = append(out, relation{name: r[0].Name, op: r[0].Op, version: r[0].Version})
	}
	return out, nil
}

// satisfiedBy reports whether the package name at version v meets r,
// compared as dpkg does (deb.VersionSatisfies).
func (r relation) satisfiedBy(name, v string) bool {
	return r.name == name && deb.VersionSatisfies(v, r.op, r.version)
}
