package deb

import (
	"reflect"
	"strings"
	"testing"
)

var relationCases = []struct {
	in   string
	want []Relation
	err  string // fragment of the error, "" when it parses
}{
	{in: "", want: nil},
	{in: " , , ", want: nil}, // dpkg: an empty dependency
	{in: "libc6", want: []Relation{{{Name: "libc6"}}}},
	{in: "libc6 (>= 2.34)", want: []Relation{{{Name: "libc6", Op: ">=", Version: "2.34"}}}},
	{in: "libc6(>=2.34)", want: []Relation{{{Name: "libc6", Op: ">=", Version: "2.34"}}}},
	{in: "libglib2.0-0  (  >= 2.12.9)", want: []Relation{{{Name: "libglib2.0-0", Op: ">=", Version: "2.12.9"}}}},
	{
		in: "cpp-12 (= 12.2.0-14), gcc-12-base (= 12.2.0-14), libcc1-0 (>= 12.2.0-14)",
		want: []Relation{
			{{Name: "cpp-12", Op: "=", Version: "12.2.0-14"}},
			{{Name: "gcc-12-base", Op: "=", Version: "12.2.0-14"}},
			{{Name: "libcc1-0", Op: ">=", Version: "12.2.0-14"}},
		},
	},
	{
		in: "debconf (>= 0.5) | debconf-2.0",
		want: []Relation{{
			{Name: "debconf", Op: ">=", Version: "0.5"},
			{Name: "debconf-2.0"},
		}},
	},
	{
		// Folded over lines, as deb822 allows (dpkg's multiline test).
		in: " , , libgtk2.0-common (= 2.10.13-1)  , libatk1.0-0 (>=\n 1.13.2), python (<< 2.5) , , ",
		want: []Relation{
			{{Name: "libgtk2.0-common", Op: "=", Version: "2.10.13-1"}},
			{{Name: "libatk1.0-0", Op: ">=", Version: "1.13.2"}},
			{{Name: "python", Op: "<<", Version: "2.5"}},
		},
	},
	{in: "python3:any (>= 3.11~)", want: []Relation{{{Name: "python3", Arch: "any", Op: ">=", Version: "3.11~"}}}},
	{in: "libc6:arm64", want: []Relation{{{Name: "libc6", Arch: "arm64"}}}},
	{in: "perl:native", want: []Relation{{{Name: "perl", Arch: "native"}}}},
	{in: "aa (<< 1) | bb (<= 2) | cc (= 3) | dd (>= 4) | ee (>> 5)", want: []Relation{{
		{Name: "aa", Op: "<<", Version: "1"}, {Name: "bb", Op: "<=", Version: "2"}, {Name: "cc", Op: "=", Version: "3"},
		{Name: "dd", Op: ">=", Version: "4"}, {Name: "ee", Op: ">>", Version: "5"},
	}}},
	// Obsolete "<" and ">" mean "<=" and ">=".
	{in: "old (< 1.0), older (> 2:1)", want: []Relation{
		{{Name: "old", Op: "<=", Version: "1.0"}}, {{Name: "older", Op: ">=", Version: "2:1"}},
	}},
	// Architecture restrictions and build profiles are dropped.
	{
		in: "libc6 (>= 2.5) [!alpha !hurd-i386], libc6.1 [alpha], libc0.1 [hurd-i386]",
		want: []Relation{
			{{Name: "libc6", Op: ">=", Version: "2.5"}},
			{{Name: "libc6.1"}},
			{{Name: "libc0.1"}},
		},
	},
	{
		in: "debhelper-compat (= 13), python3-pytest <!nocheck>, libfoo-dev [amd64] <!nocheck> <cross !stage1>",
		want: []Relation{
			{{Name: "debhelper-compat", Op: "=", Version: "13"}},
			{{Name: "python3-pytest"}},
			{{Name: "libfoo-dev"}},
		},
	},
	{in: "libc6 | musl [amd64] | libc0.1 <stage1>", want: []Relation{{{Name: "libc6"}, {Name: "musl"}, {Name: "libc0.1"}}}},
	// Errors.
	{in: "aa | | bb", err: "missing package name"},
	{in: "libc6 (>= )", err: "empty version"},
	{in: "libc6 (2.0)", err: "bad version relation"},
	{in: "libc6 (=< 2.0)", err: "bad version relation"},
	{in: "libc6 (>= 2.0", err: "unclosed '('"},
	{in: "libc6 [amd64", err: "unclosed '['"},
	{in: "libc6 [amd64 !i386]", err: "mixes negated"},
	{in: "libc6 <>", err: "empty build profile"},
	{in: "foo\nbar, c", err: "unexpected \"bar\""}, // dpkg: name split over lines
	{in: "Foo", err: "must start with a lowercase"},
	{in: "foo_bar", err: "invalid character '_'"},
	{in: "f", err: "too short"},
	{in: "libc6 (>= 1.0 1)", err: "invalid character ' '"},
	{in: "libc6 (>= 1.0) garbage", err: "unexpected \"garbage\""},
	{in: "libc6:", err: "empty architecture"},
	{in: "libc6:ARM", err: "invalid character"},
}

func TestParseRelations(t *testing.T) {
	for _, tc := range relationCases {
		got, err := ParseRelations(tc.in)
		if tc.err != "" {
			if err == nil {
				t.Errorf("ParseRelations(%q) = %v, want error containing %q", tc.in, got, tc.err)
			} else if !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRelations(%q) error %q, want it to contain %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRelations(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseRelations(%q) =\n %#v\nwant\n %#v", tc.in, got, tc.want)
		}
	}
}

// mustParseRelations parses s, which the test knows to be valid.
func mustParseRelations(t *testing.T, s string) []Relation {
	t.Helper()
	rels, err := ParseRelations(s)
	if err != nil {
		t.Fatal(err)
	}
	return rels
}

func TestRelationString(t *testing.T) {
	rels := mustParseRelations(t, "python3:any (>= 3.11~) | python3-minimal, libc6 (<< 3)")
	if got, want := rels[0].String(), "python3:any (>= 3.11~) | python3-minimal"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := rels[1].String(), "libc6 (<< 3)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestParseRelationsNoAliasing checks that the shared backing array of
// one field cannot leak between relations through append.
func TestParseRelationsNoAliasing(t *testing.T) {
	rels := mustParseRelations(t, "a1 | a2, b1, c1")
	_ = append(rels[0], Dep{Name: "zz"})
	if rels[1][0].Name != "b1" {
		t.Fatalf("appending to one relation overwrote the next: %v", rels)
	}
}
