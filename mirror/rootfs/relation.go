package rootfs

import (
	"fmt"
	"strings"

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
// "libfoo (<< 1.2-1), bar:any". Architecture qualifiers are dropped:
// Replaces of one package by another is decided by name and version.
func parseRelations(field string) ([]relation, error) {
	var out []relation
	for _, part := range strings.Split(field, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var r relation
		name, cons, hasCons := strings.Cut(part, "(")
		r.name, _, _ = strings.Cut(strings.TrimSpace(name), ":")
		if r.name == "" || strings.ContainsAny(r.name, " |[") {
			return nil, fmt.Errorf("bad relation %q", part)
		}
		if hasCons {
			cons, ok := strings.CutSuffix(strings.TrimSpace(cons), ")")
			if !ok {
				return nil, fmt.Errorf("bad relation %q", part)
			}
			cons = strings.TrimSpace(cons)
			for _, op := range []string{"<<", "<=", ">=", ">>", "=", "<", ">"} {
				if v, ok := strings.CutPrefix(cons, op); ok {
					r.op, r.version = op, strings.TrimSpace(v)
					break
				}
			}
			// "<" and ">" are obsolete spellings of "<=" and ">=".
			switch r.op {
			case "<":
				r.op = "<="
			case ">":
				r.op = ">="
			}
			if r.op == "" || r.version == "" {
				return nil, fmt.Errorf("bad relation %q", part)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// satisfiedBy reports whether the package name at version v meets r,
// compared as dpkg does (deb.VersionSatisfies).
func (r relation) satisfiedBy(name, v string) bool {
	return r.name == name && deb.VersionSatisfies(v, r.op, r.version)
}
