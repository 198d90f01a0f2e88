package deb

import (
	"fmt"
	"strings"
)

// validateName checks a package name against Debian policy 5.6.7: at least
// two characters, lowercase letters, digits, '+', '-' and '.', starting
// with a letter or digit. Names end up in file names and shell-adjacent
// tooling, so anything else is refused rather than escaped.
func validateName(name string) error {
	if len(name) < 2 {
		return fmt.Errorf("package name %q: too short", name)
	}
	if !isLowerAlnum(name[0]) {
		return fmt.Errorf("package name %q: must start with a lowercase letter or digit", name)
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isLowerAlnum(c) && c != '+' && c != '-' && c != '.' {
			return fmt.Errorf("package name %q: invalid character %q", name, c)
		}
	}
	return nil
}

// validateArch checks an architecture name (amd64, arm64, all, hurd-i386,
// ...): lowercase letters, digits and '-'.
func validateArch(arch string) error {
	if arch == "" {
		return fmt.Errorf("empty architecture")
	}
	for i := 0; i < len(arch); i++ {
		c := arch[i]
		if !isLowerAlnum(c) && !(c == '-' && i > 0) {
			return fmt.Errorf("architecture %q: invalid character %q", arch, c)
		}
	}
	return nil
}

// validateRelPath refuses paths that could escape the archive root or the
// cache when joined to a base: absolute, "..", backslashes, control
// characters, and non-canonical forms ("a//b", "./a", "a/") that would
// make two spellings of one file. It runs once per Packages stanza, so it
// scans by hand instead of comparing with path.Clean.
func validateRelPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty path")
	case p[0] == '/':
		return fmt.Errorf("path %q: absolute", p)
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			return fmt.Errorf("path %q: backslash", p)
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("path %q: control character", p)
		}
	}
	for rest := p; ; {
		seg, tail, more := strings.Cut(rest, "/")
		switch seg {
		case "..":
			return fmt.Errorf("path %q: \"..\"", p)
		case "", ".":
			return fmt.Errorf("path %q: not canonical", p)
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

// validateSHA256 checks a lowercase hex SHA256 digest.
func validateSHA256(h string) error {
	if len(h) != 64 {
		return fmt.Errorf("sha256 %q: want 64 hex digits", h)
	}
	for i := 0; i < len(h); i++ {
		if !lowerHex[h[i]] {
			return fmt.Errorf("sha256 %q: not lowercase hex", h)
		}
	}
	return nil
}

var lowerHex = func() (t [256]bool) {
	for _, c := range "0123456789abcdef" {
		t[c] = true
	}
	return t
}()
