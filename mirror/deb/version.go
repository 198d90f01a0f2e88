package deb

import (
	"fmt"
	"strings"
)

// CompareVersions orders two Debian versions the way dpkg does
// (dpkg_version_compare): epoch numerically, then upstream version and
// revision with verrevcmp, where '~' sorts before everything, even the end
// of the string, letters before other punctuation, and digit runs compare
// numerically. It returns -1, 0 or 1.
//
// It never fails: invalid versions still get a deterministic total order
// (the split into epoch, upstream and revision is the same as dpkg's), so
// sorting arbitrary input is safe. Use validateVersion to reject them.
func CompareVersions(a, b string) int {
	ea, ua, ra := splitVersion(a)
	eb, ub, rb := splitVersion(b)
	// verrevcmp on a digits-only epoch is a numeric comparison without
	// overflow, and on a malformed one it still orders consistently.
	if c := verrevcmp(ea, eb); c != 0 {
		return c
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

// splitVersion splits [epoch:]upstream[-revision] like dpkg's parseversion:
// the epoch ends at the first colon, the revision starts after the last
// hyphen. A missing epoch compares as 0 and a missing revision as "", which
// verrevcmp treats like "0" (so 1.0 == 1.0-0, as in dpkg).
func splitVersion(v string) (epoch, upstream, revision string) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, v = v[:i], v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v, revision = v[:i], v[i+1:]
	}
	return epoch, v, revision
}

// order is dpkg's character weight for the non-digit parts.
func order(c byte) int {
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	default:
		return int(c) + 256
	}
}

// verrevcmp is dpkg's verrevcmp: alternate non-digit runs compared by
// order() and digit runs compared numerically. Digit runs are compared as
// strings (leading zeros dropped, then length, then bytes) so arbitrarily
// long runs cannot overflow.
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := 0, 0
			if i < len(a) {
				ac = order(a[i])
			}
			if j < len(b) {
				bc = order(b[j])
			}
			if ac != bc {
				return sign(ac - bc)
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
		firstDiff := 0
		for i < len(a) && j < len(b) && isDigit(a[i]) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return sign(firstDiff)
		}
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isLowerAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z')
}

// VersionSatisfies reports whether version v satisfies "op want" (op one
// of <<, <=, =, >=, >>); an empty op is always satisfied.
func VersionSatisfies(v, op, want string) bool {
	if op == "" {
		return true
	}
	c := CompareVersions(v, want)
	switch op {
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

// validateVersion applies dpkg's parseversion rules, treating its
// warnings about characters as errors: an index is machine-written, and a
// stray character there is more likely an attack on a downstream tool
// than a typo. A non-digit start is accepted, as dpkg and apt do.
func validateVersion(v string) error {
	if v == "" {
		return fmt.Errorf("empty version")
	}
	epoch, upstream, revision := splitVersion(v)
	if strings.IndexByte(v, ':') >= 0 {
		if epoch == "" {
			return fmt.Errorf("version %q: empty epoch", v)
		}
		if len(epoch) > 9 {
			return fmt.Errorf("version %q: epoch too big", v)
		}
		for k := 0; k < len(epoch); k++ {
			if !isDigit(epoch[k]) {
				return fmt.Errorf("version %q: epoch is not a number", v)
			}
		}
	}
	if upstream == "" {
		return fmt.Errorf("version %q: empty upstream version", v)
	}
	for k := 0; k < len(upstream); k++ {
		c := upstream[k]
		if !isDigit(c) && !isAlpha(c) && strings.IndexByte(".+~-:", c) < 0 {
			return fmt.Errorf("version %q: invalid character %q in upstream version", v, c)
		}
	}
	for k := 0; k < len(revision); k++ {
		c := revision[k]
		if !isDigit(c) && !isAlpha(c) && strings.IndexByte(".+~", c) < 0 {
			return fmt.Errorf("version %q: invalid character %q in revision", v, c)
		}
	}
	return nil
}
