package apk

import (
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/mirror/internal/versiontest"
)

func FuzzParseIndex(f *testing.F) {
	f.Add(sampleIndex)
	f.Add("P:a\nV:1\n\nP:b\nV:2\nD:a>=1 !c so:x\n")
	f.Add("P:a\r\nV:1\r\nk:5\r\n")
	f.Add("garbage")
	f.Add("P:a\nV:1\nD:so:x !c\n\nP:b\nV:2\np:so:x=1 v\nk:3\n\nP:c\nV:1\ni:a b\n")
	f.Fuzz(func(t *testing.T, text string) {
		pkgs, err := ParseIndex(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("accepted record without name/version: %+v", p)
			}
		}
		// Whatever parses must also load into the solver without panicking.
		_, _ = Resolve([]Repository{{Name: "fuzz", Packages: pkgs}}, []string{"a"})
	})
}

func FuzzCompareVersions(f *testing.F) {
	versiontest.Seed(f, versiontest.Read(f, versiontest.PairsFile))
	f.Fuzz(func(t *testing.T, a, b, c string) {
		versiontest.CheckReflexive(t, CompareVersions, a, b)
		if !ValidVersion(a) || !ValidVersion(b) || !ValidVersion(c) {
			// apk's order is only meaningful on valid versions; on
			// invalid input we just require no panic and reflexivity.
			return
		}
		versiontest.CheckTotal(t, CompareVersions, a, b, c)
	})
}
