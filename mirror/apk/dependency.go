package apk

import (
	"fmt"
	"strings"
)

// Dependency is one dependency atom: [!]name[op version]. Op is one of
// "", "=", "<", ">", "<=", ">=", "~", "<~", ">~" or "><" (checksum pin;
// Version then holds the checksum). Conflict is set by a leading "!".
type Dependency struct {
	Name     string
	Op       string
	Version  string
	Conflict bool
}

// Result bits of a version comparison, combined into a dependency's mask
// the way apk does (APK_VERSION_LESS/EQUAL/GREATER).
const (
	maskLess    = 1
	maskEqual   = 2
	maskGreater = 4
	maskAny     = maskLess | maskEqual | maskGreater
	maskFuzzy   = 8
	maskCsum    = maskLess | maskGreater // "><"
)

// ParseDependency parses one atom as apk_blob_pull_dep does.
func ParseDependency(s string) (Dependency, error) {
	var d Dependency
	rest := s
	if strings.HasPrefix(rest, "!") {
		d.Conflict = true
		rest = rest[1:]
	}
	i := strings.IndexAny(rest, "<>=~")
	if i < 0 {
		d.Name = rest
	} else {
		d.Name = rest[:i]
		j := i
		for j < len(rest) && strings.IndexByte("<>=~", rest[j]) >= 0 {
			j++
		}
		d.Op, d.Version = rest[i:j], rest[j:]
	}
	if d.Name == "" {
		return Dependency{}, fmt.Errorf("dependency %q: empty name", s)
	}
	if strings.ContainsAny(d.Name, " \t") {
		return Dependency{}, fmt.Errorf("dependency %q: space in name", s)
	}
	if d.Op == "" {
		return d, nil
	}
	mask := d.mask()
	if mask == 0 || d.Version == "" {
		return Dependency{}, fmt.Errorf("dependency %q: bad operator %q", s, d.Op)
	}
	if mask&maskCsum == maskCsum {
		if d.Op != "><" {
			return Dependency{}, fmt.Errorf("dependency %q: bad operator %q", s, d.Op)
		}
		return d, nil
	}
	if !ValidVersion(d.Version) {
		return Dependency{}, fmt.Errorf("dependency %q: invalid version %q", s, d.Version)
	}
	return d, nil
}

// mask returns the apk result mask of d's operator (0 if invalid).
func (d Dependency) mask() int {
	if d.Op == "" {
		return maskAny
	}
	m := 0
	for i := 0; i < len(d.Op); i++ {
		switch d.Op[i] {
		case '<':
			m |= maskLess
		case '>':
			m |= maskGreater
		case '=':
			m |= maskEqual
		case '~':
			m |= maskFuzzy | maskEqual
		default:
			return 0
		}
	}
	return m
}

// String formats d back into atom form.
func (d Dependency) String() string {
	s := d.Name + d.Op + d.Version
	if d.Conflict {
		return "!" + s
	}
	return s
}
