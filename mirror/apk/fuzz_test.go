package apk

import (
	"strings"
	"testing"
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
	for _, tc := range versionPairs {
		f.Add(tc.a, tc.b, "1.0")
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab < -1 || ab > 1 {
			t.Fatalf("Compare(%q, %q) = %d", a, b, ab)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("Compare(%q, %q) != 0", a, a)
		}
		if !ValidVersion(a) || !ValidVersion(b) || !ValidVersion(c) {
			// apk's order is only meaningful on valid versions; on
			// invalid input we just require no panic and reflexivity.
			return
		}
		if ab != -ba {
			t.Fatalf("Compare(%q, %q) = %d but Compare(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		bc, ac := CompareVersions(b, c), CompareVersions(a, c)
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
		if ab >= 0 && bc >= 0 && ac < 0 {
			t.Fatalf("not transitive: %q >= %q >= %q but %q < %q", a, b, c, a, c)
		}
	})
}
