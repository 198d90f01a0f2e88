package deb

import (
	"fmt"
	"strconv"
	"strings"
)

// field identifiers for the fields ParsePackages keeps.
const (
	fPackage = iota
	fVersion
	fArchitecture
	fMultiArch
	fSource
	fEssential
	fPriority
	fDepends
	fPreDepends
	fProvides
	fConflicts
	fBreaks
	fFilename
	fSHA256
	fSize
	fInstalledSize
	nFields
)

var fieldNames = [nFields]string{
	"Package", "Version", "Architecture", "Multi-Arch", "Source", "Essential",
	"Priority", "Depends", "Pre-Depends", "Provides", "Conflicts", "Breaks",
	"Filename", "SHA256", "Size", "Installed-Size",
}

// fieldID maps a field name to its id, or -1 for fields that are skipped.
// Names are case-insensitive in deb822; the exact switch is the fast path
// for the canonical spelling every archive uses.
func fieldID(name string) int {
	switch name {
	case "Package":
		return fPackage
	case "Version":
		return fVersion
	case "Architecture":
		return fArchitecture
	case "Multi-Arch":
		return fMultiArch
	case "Source":
		return fSource
	case "Essential":
		return fEssential
	case "Priority":
		return fPriority
	case "Depends":
		return fDepends
	case "Pre-Depends":
		return fPreDepends
	case "Provides":
		return fProvides
	case "Conflicts":
		return fConflicts
	case "Breaks":
		return fBreaks
	case "Filename":
		return fFilename
	case "SHA256":
		return fSHA256
	case "Size":
		return fSize
	case "Installed-Size":
		return fInstalledSize
	}
	for id, canon := range fieldNames {
		if len(canon) == len(name) && strings.EqualFold(canon, name) {
			return id
		}
	}
	return -1
}

// setPackageField validates one field value and stores it; relations are
// carved from a.
func setPackageField(p *Package, id int, v string, a *relArena) error {
	var err error
	switch id {
	case fPackage:
		return setChecked(&p.Name, v, validateName)
	case fVersion:
		return setChecked(&p.Version, v, validateVersion)
	case fArchitecture:
		return setChecked(&p.Architecture, v, validateArch)
	case fMultiArch:
		switch v {
		case "no", "same", "foreign", "allowed":
			p.MultiArch = v
			return nil
		}
		return fmt.Errorf("unknown value %q", v)
	case fSource:
		name, ver, hasVer := strings.Cut(v, " ")
		p.Source = name
		if err := validateName(name); err != nil {
			return err
		}
		if hasVer {
			ver = strings.TrimSpace(ver)
			if len(ver) < 2 || ver[0] != '(' || ver[len(ver)-1] != ')' {
				return fmt.Errorf("want \"name (version)\", got %q", v)
			}
			p.SourceVersion = strings.TrimSpace(ver[1 : len(ver)-1])
			return validateVersion(p.SourceVersion)
		}
		return nil
	case fEssential:
		switch v {
		case "yes":
			p.Essential = true
			return nil
		case "no":
			return nil
		}
		return fmt.Errorf("want yes or no, got %q", v)
	case fPriority:
		p.Priority = v
		return nil
	case fDepends:
		p.Depends, err = parseRelations(v, a)
	case fPreDepends:
		p.PreDepends, err = parseRelations(v, a)
	case fProvides:
		p.Provides, err = parseProvides(v, a)
	case fConflicts:
		p.Conflicts, err = parseRelations(v, a)
	case fBreaks:
		p.Breaks, err = parseRelations(v, a)
	case fFilename:
		return setChecked(&p.Filename, v, validateRelPath)
	case fSHA256:
		return setChecked(&p.SHA256, v, validateSHA256)
	case fSize:
		p.Size, err = parseSize(v)
	case fInstalledSize:
		p.InstalledSize, err = parseSize(v)
	}
	return err
}

// setChecked stores v in dst and returns check's verdict on it.
func setChecked(dst *string, v string, check func(string) error) error {
	*dst = v
	return check(v)
}

// parseProvides parses Provides, which allows neither alternatives nor any
// relation other than "=" (a versioned provide).
func parseProvides(v string, a *relArena) ([]Relation, error) {
	rels, err := parseRelations(v, a)
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		if len(r) != 1 {
			return nil, fmt.Errorf("alternatives in Provides: %s", r)
		}
		if r[0].Op != "" && r[0].Op != "=" {
			return nil, fmt.Errorf("only \"=\" is allowed in Provides: %s", r)
		}
	}
	return rels, nil
}

func parseSize(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || (len(v) > 1 && v[0] == '0') || v[0] == '+' {
		return 0, fmt.Errorf("invalid size %q", v)
	}
	return n, nil
}

// checkPackage enforces the fields every usable stanza needs and fills the
// defaults.
func checkPackage(p *Package, seen uint32) error {
	for _, id := range [...]int{fPackage, fVersion, fArchitecture, fFilename, fSHA256, fSize} {
		if seen&(1<<id) == 0 {
			what := p.Name
			if what == "" {
				what = "stanza"
			}
			return fmt.Errorf("%s: missing %s field", what, fieldNames[id])
		}
	}
	if p.Source == "" {
		p.Source = p.Name
	}
	if p.SourceVersion == "" {
		p.SourceVersion = p.Version
	}
	return nil
}
