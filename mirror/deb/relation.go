package deb

import (
	"fmt"
	"strings"
)

// Relation is one comma-separated element of a relationship field: a list
// of alternatives ("a | b"), any one of which satisfies it.
type Relation []Dep

// Dep is one alternative: a package name with an optional architecture
// qualifier and version constraint.
type Dep struct {
	Name string
	// Arch is "" (the depending package's own architecture), "any",
	// "native", or an architecture name.
	Arch string
	// Op is "", "<<", "<=", "=", ">=" or ">>". The obsolete "<" and ">"
	// are read as "<=" and ">=", as dpkg does.
	Op      string
	Version string
}

// String formats d as it would appear in a control field.
func (d Dep) String() string {
	s := d.Name
	if d.Arch != "" {
		s += ":" + d.Arch
	}
	if d.Op != "" {
		s += " (" + d.Op + " " + d.Version + ")"
	}
	return s
}

// String formats r with " | " between alternatives.
func (r Relation) String() string {
	parts := make([]string, len(r))
	for i, d := range r {
		parts[i] = d.String()
	}
	return strings.Join(parts, " | ")
}

// ParseRelations parses a relationship field (Depends, Pre-Depends,
// Provides, Conflicts, Breaks, ...). Empty elements (" , , ") are skipped
// as dpkg does. Architecture restriction lists ("[amd64 !i386]") and build
// profile formulas ("<!nocheck>") only have meaning in source packages'
// Build-Depends; they are syntax-checked and dropped here, so binary
// fields parse the same whatever produced them.
func ParseRelations(s string) ([]Relation, error) {
	return parseRelations(s, nil)
}

// relArena hands out Dep and Relation slices from shared chunks, so that
// parsing a whole index costs a few hundred allocations instead of two per
// relationship field. Slices it returns are capacity-limited: appending to
// one reallocates instead of overwriting its neighbour.
type relArena struct {
	deps []Dep
	rels []Relation
}

const arenaChunk = 4096

func (a *relArena) newDeps(n int) []Dep {
	if a == nil {
		return make([]Dep, 0, n)
	}
	return carve(&a.deps, n)
}

func (a *relArena) newRels(n int) []Relation {
	if a == nil {
		return make([]Relation, 0, n)
	}
	return carve(&a.rels, n)
}

// carve returns an empty slice with room for n taken from *chunk, starting
// a new chunk when the current one is too full.
func carve[T any](chunk *[]T, n int) []T {
	if cap(*chunk)-len(*chunk) < n {
		*chunk = make([]T, 0, max(n, arenaChunk))
	}
	l := len(*chunk)
	*chunk = (*chunk)[:l+n]
	return (*chunk)[l : l : l+n]
}

// parseRelations is ParseRelations drawing memory from a (nil: the heap).
func parseRelations(s string, a *relArena) ([]Relation, error) {
	// One backing array for every alternative of the field.
	nrel := strings.Count(s, ",") + 1
	deps := a.newDeps(nrel + strings.Count(s, "|"))
	rels := a.newRels(nrel)
	for rest := s; ; {
		elem, tail, more := strings.Cut(rest, ",")
		if isBlank(elem) {
			if !more {
				break
			}
			rest = tail
			continue
		}
		start := len(deps)
		for alts := elem; ; {
			alt, next, orMore := strings.Cut(alts, "|")
			d, err := parseDep(alt)
			if err != nil {
				return nil, fmt.Errorf("relation %q: %w", strings.TrimSpace(elem), err)
			}
			deps = append(deps, d)
			if !orMore {
				break
			}
			alts = next
		}
		rels = append(rels, Relation(deps[start:len(deps):len(deps)]))
		if !more {
			break
		}
		rest = tail
	}
	if len(rels) == 0 {
		return nil, nil
	}
	return rels, nil
}

// parseDep parses "name[:arch] [(op version)] [[archs]] [<profiles>]...".
func parseDep(s string) (Dep, error) {
	var d Dep
	p := skipSpace(s, 0)
	start := p
	for p < len(s) && isNameByte(s[p]) {
		p++
	}
	d.Name = s[start:p]
	if p < len(s) && !isSpace(s[p]) && !isDelim(s[p]) {
		// Take the whole would-be name for validateName's message.
		for p < len(s) && !isSpace(s[p]) && !isDelim(s[p]) {
			p++
		}
		d.Name = s[start:p]
	}
	if d.Name == "" {
		return Dep{}, fmt.Errorf("missing package name in %q", strings.TrimSpace(s))
	}
	if err := validateName(d.Name); err != nil {
		return Dep{}, err
	}
	if p < len(s) && s[p] == ':' {
		p++
		start = p
		for p < len(s) && !isSpace(s[p]) && !isDelim(s[p]) {
			p++
		}
		d.Arch = s[start:p]
		if err := validateArch(d.Arch); err != nil {
			return Dep{}, fmt.Errorf("%s: %w", d.Name, err)
		}
	}
	p = skipSpace(s, p)
	if p < len(s) && s[p] == '(' {
		end := strings.IndexByte(s[p:], ')')
		if end < 0 {
			return Dep{}, fmt.Errorf("%s: unclosed '('", d.Name)
		}
		op, ver, err := parseConstraint(s[p+1 : p+end])
		if err != nil {
			return Dep{}, fmt.Errorf("%s: %w", d.Name, err)
		}
		d.Op, d.Version = op, ver
		p = skipSpace(s, p+end+1)
	}
	if p < len(s) && s[p] == '[' {
		end := strings.IndexByte(s[p:], ']')
		if end < 0 {
			return Dep{}, fmt.Errorf("%s: unclosed '['", d.Name)
		}
		if err := checkArchList(s[p+1 : p+end]); err != nil {
			return Dep{}, fmt.Errorf("%s: %w", d.Name, err)
		}
		p = skipSpace(s, p+end+1)
	}
	for p < len(s) && s[p] == '<' {
		end := strings.IndexByte(s[p:], '>')
		if end < 0 {
			return Dep{}, fmt.Errorf("%s: unclosed '<'", d.Name)
		}
		if strings.TrimSpace(s[p+1:p+end]) == "" {
			return Dep{}, fmt.Errorf("%s: empty build profile", d.Name)
		}
		p = skipSpace(s, p+end+1)
	}
	if p != len(s) {
		return Dep{}, fmt.Errorf("%s: unexpected %q", d.Name, strings.TrimSpace(s[p:]))
	}
	return d, nil
}

// parseConstraint parses the inside of "(>= 1.0)".
func parseConstraint(s string) (op, ver string, err error) {
	s = strings.TrimSpace(s)
	n := 0
	for n < len(s) && n < 2 && strings.IndexByte("<=>", s[n]) >= 0 {
		n++
	}
	switch s[:n] {
	case "<<", "<=", "=", ">=", ">>":
		op = s[:n]
	case "<":
		op = "<="
	case ">":
		op = ">="
	default: // "", "=<", "=>", "==", "<>", "><"
		return "", "", fmt.Errorf("bad version relation in %q", s)
	}
	ver = strings.TrimSpace(s[n:])
	if err := validateVersion(ver); err != nil {
		return "", "", err
	}
	return op, ver, nil
}

// checkArchList syntax-checks "amd64 !i386" (all negated or none).
func checkArchList(s string) error {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return fmt.Errorf("empty architecture list")
	}
	neg := strings.HasPrefix(fields[0], "!")
	for _, f := range fields {
		if strings.HasPrefix(f, "!") != neg {
			return fmt.Errorf("architecture list %q mixes negated and plain entries", s)
		}
		if err := validateArch(strings.TrimPrefix(f, "!")); err != nil {
			return err
		}
	}
	return nil
}

// isNameByte reports whether c may appear in a package name.
func isNameByte(c byte) bool {
	return isLowerAlnum(c) || c == '+' || c == '-' || c == '.'
}

// isDelim reports whether c ends a name or architecture in a relation.
func isDelim(c byte) bool { return c == ':' || c == '(' || c == '[' || c == '<' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) {
			return false
		}
	}
	return true
}

func skipSpace(s string, p int) int {
	for p < len(s) && isSpace(s[p]) {
		p++
	}
	return p
}
