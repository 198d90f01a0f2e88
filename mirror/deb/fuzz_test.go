package deb

import (
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/mirror/internal/versiontest"
)

// FuzzCompareVersions checks that CompareVersions is a total order on any
// input (valid or not): reflexive, antisymmetric and transitive, and that
// it agrees with VersionSatisfies.
func FuzzCompareVersions(f *testing.F) {
	versiontest.Seed(f, versiontest.Read(f, versiontest.PairsFile))
	f.Add("1:2~a-3", "1:2-3~", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		versiontest.CheckReflexive(t, CompareVersions, a, b)
		versiontest.CheckTotal(t, CompareVersions, a, b, c)
		ab := CompareVersions(a, b)
		if VersionSatisfies(a, "<<", b) != (ab < 0) || VersionSatisfies(a, "=", b) != (ab == 0) {
			t.Fatalf("VersionSatisfies disagrees with Compare(%q, %q) = %d", a, b, ab)
		}
	})
}

// FuzzParseRelations checks that parsing never panics and that whatever
// parses prints back to something that parses to the same relations.
func FuzzParseRelations(f *testing.F) {
	for _, tc := range relationCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rels, err := ParseRelations(s)
		if err != nil {
			return
		}
		parts := make([]string, len(rels))
		for i, r := range rels {
			parts[i] = r.String()
		}
		again, err := ParseRelations(strings.Join(parts, ", "))
		if err != nil {
			t.Fatalf("%q parsed, but its formatting %q does not: %v", s, strings.Join(parts, ", "), err)
		}
		if len(again) != len(rels) {
			t.Fatalf("%q: round trip changed %d relations to %d", s, len(rels), len(again))
		}
		for i := range rels {
			if rels[i].String() != again[i].String() {
				t.Fatalf("%q: round trip changed %s to %s", s, rels[i], again[i])
			}
		}
	})
}

// FuzzParsePackages checks that the Packages parser never panics and only
// accepts stanzas that pass validation.
func FuzzParsePackages(f *testing.F) {
	f.Add(samplePackages)
	f.Add("Package: a\n")
	f.Add("Package: ab\nVersion: 1\n Description\n\n\n")
	f.Fuzz(func(t *testing.T, text string) {
		pkgs, err := ParsePackages(strings.NewReader(text), "fuzz")
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if validateName(p.Name) != nil || validateVersion(p.Version) != nil || validateRelPath(p.Filename) != nil {
				t.Fatalf("accepted invalid stanza %+v", p)
			}
		}
		_, _ = NewIndex(pkgs).Resolve([]string{"ab"}, ResolveOptions{Native: "amd64", Foreign: []string{"arm64"}})
	})
}
