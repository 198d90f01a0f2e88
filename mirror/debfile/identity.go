package debfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CheckIdentity checks the control fields that name the package: Package,
// Version and Architecture must be present and well formed. Open does not
// check them, since reading a package needs none of them; a caller that
// puts them in file names (dpkg's info/NAME:ARCH.list) or in another
// control file must call CheckIdentity first, as dpkg refuses to install
// a package whose fields fail these rules.
func (d *Deb) CheckIdentity() error {
	name, version, arch := d.Fields["Package"], d.Fields["Version"], d.Fields["Architecture"]
	if name == "" {
		return errors.New("control file has no Package field")
	}
	if err := CheckPackageName(name); err != nil {
		return fmt.Errorf("control file: %w", err)
	}
	if version == "" {
		return fmt.Errorf("package %s: control file has no Version field", name)
	}
	if err := CheckVersion(version); err != nil {
		return fmt.Errorf("package %s: %w", name, err)
	}
	if arch == "" {
		return fmt.Errorf("package %s: control file has no Architecture field", name)
	}
	if err := CheckArchitecture(arch); err != nil {
		return fmt.Errorf("package %s: %w", name, err)
	}
	return nil
}

// CheckPackageName checks a package name against Debian policy 5.6.1: at
// least two characters, lowercase letters, digits, '+', '-' and '.',
// starting with a letter or digit.
func CheckPackageName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("Package %q is not a valid package name: %s", name, why)
	}
	if len(name) < 2 {
		return bad("it must be at least two characters long")
	}
	if !isLowerAlnum(name[0]) {
		return bad("it must start with a lowercase letter or a digit")
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isLowerAlnum(c) && c != '+' && c != '-' && c != '.' {
			return bad(fmt.Sprintf("character %q (only lowercase letters, digits, '+', '-' and '.' are allowed)", c))
		}
	}
	return nil
}

// CheckVersion checks a version as dpkg does for a package it installs
// (deb-version(7)): [epoch:]upstream[-revision], the epoch a number, the
// upstream version starting with a digit and made of letters, digits and
// ".+~-:" ("-" only with a revision, ":" only with an epoch), the
// revision of letters, digits and ".+~".
func CheckVersion(v string) error {
	bad := func(why string) error { return fmt.Errorf("Version %q is not a valid version: %s", v, why) }
	if v == "" {
		return bad("it is empty")
	}
	rest := v
	if epoch, after, ok := strings.Cut(v, ":"); ok {
		if epoch == "" {
			return bad("the epoch is empty")
		}
		for i := 0; i < len(epoch); i++ {
			if !isDigit(epoch[i]) {
				return bad("the epoch is not a number")
			}
		}
		if n, err := strconv.ParseInt(epoch, 10, 32); err != nil || n < 0 {
			return bad("the epoch is too big")
		}
		if after == "" {
			return bad("nothing after the epoch's colon")
		}
		rest = after
	}
	upstream, revision := rest, ""
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		upstream, revision = rest[:i], rest[i+1:]
		if revision == "" {
			return bad("the revision after the last '-' is empty")
		}
	}
	if upstream == "" {
		return bad("the upstream version is empty")
	}
	if !isDigit(upstream[0]) {
		return bad("the upstream version does not start with a digit")
	}
	for i := 0; i < len(upstream); i++ {
		if c := upstream[i]; !isAlnum(c) && !strings.ContainsRune(".-+~:", rune(c)) {
			return bad(fmt.Sprintf("character %q in the upstream version", c))
		}
	}
	for i := 0; i < len(revision); i++ {
		if c := revision[i]; !isAlnum(c) && !strings.ContainsRune(".+~", rune(c)) {
			return bad(fmt.Sprintf("character %q in the revision", c))
		}
	}
	return nil
}

// CheckArchitecture checks an architecture name as dpkg does: lowercase
// letters, digits and '-', starting with a letter or digit ("amd64",
// "all", "hurd-i386").
func CheckArchitecture(arch string) error {
	if arch == "" || !isLowerAlnum(arch[0]) {
		return fmt.Errorf("Architecture %q is not a valid architecture: it must start with a lowercase letter or a digit", arch)
	}
	for i := 0; i < len(arch); i++ {
		if c := arch[i]; !isLowerAlnum(c) && c != '-' {
			return fmt.Errorf("Architecture %q is not a valid architecture: character %q (only lowercase letters, digits and '-' are allowed)", arch, c)
		}
	}
	return nil
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isLowerAlnum(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' }
func isAlnum(c byte) bool      { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }
