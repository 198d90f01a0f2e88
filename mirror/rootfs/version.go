package rootfs

import (
	"fmt"
	"strconv"
	"strings"
)

// compareVersions orders two Debian versions ([epoch:]upstream[-revision])
// as dpkg does (deb-version(7)): the result is <0, 0 or >0.
func compareVersions(a, b string) int {
	ea, ua, ra := splitVersion(a)
	eb, ub, rb := splitVersion(b)
	if ea != eb {
		if ea < eb {
			return -1
		}
		return 1
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

func splitVersion(v string) (epoch int, upstream, revision string) {
	if e, rest, ok := strings.Cut(v, ":"); ok {
		epoch, _ = strconv.Atoi(e) // a bad epoch sorts as 0, like dpkg's lax parser
		v = rest
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// order is dpkg's weight of a non-digit: '~' before the end of the string,
// the end before letters, letters before other characters.
func order(c byte) int {
	switch {
	case c >= '0' && c <= '9', c == 0:
		return 0
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return int(c)
	case c == '~':
		return -1
	}
	return int(c) + 256
}

// verrevcmp is dpkg's comparison of upstream versions and revisions:
// alternating runs of non-digits (compared by order) and digits (compared
// numerically).
func verrevcmp(a, b string) int {
	at := func(s string, i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !digit(a[i])) || (j < len(b) && !digit(b[j])) {
			if ac, bc := order(at(a, i)), order(at(b, j)); ac != bc {
				return ac - bc
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		first := 0
		for i < len(a) && j < len(b) && digit(a[i]) && digit(b[j]) {
			if first == 0 {
				first = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && digit(a[i]) {
			return 1
		}
		if j < len(b) && digit(b[j]) {
			return -1
		}
		if first != 0 {
			return first
		}
	}
	return 0
}

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

// satisfiedBy reports whether the package name at version v meets r.
func (r relation) satisfiedBy(name, v string) bool {
	if r.name != name {
		return false
	}
	c := compareVersions(v, r.version)
	switch r.op {
	case "":
		return true
	case "<<":
		return c < 0
	case "<=":
		return c <= 0
	case "=":
		return c == 0
	case ">=":
		return c >= 0
	case ">>":
		return c > 0
	}
	return false
}
