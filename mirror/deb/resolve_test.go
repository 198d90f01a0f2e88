package deb

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// pk builds one stanza: head is "name version arch", lines are extra
// fields. Filename, Size and SHA256 are filled in.
func pk(head string, lines ...string) string {
	f := strings.Fields(head)
	name, version, arch := f[0], f[1], f[2]
	s := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nFilename: pool/%s_%s_%s.deb\nSize: 1\nSHA256: %s\n",
		name, version, arch, name, strings.ReplaceAll(version, ":", "%3a"), arch, strings.Repeat("0", 64))
	for _, l := range lines {
		s += l + "\n"
	}
	return s
}

// testIndex parses stanzas through ParsePackages, as real data would be.
func testIndex(t *testing.T, stanzas ...string) *Index {
	t.Helper()
	pkgs, err := ParsePackages(strings.NewReader(strings.Join(stanzas, "\n")), "test/main")
	if err != nil {
		t.Fatal(err)
	}
	return NewIndex(pkgs)
}

// ids renders a resolution as "name:arch=version" strings.
func ids(pkgs []*Package) []string {
	out := make([]string, len(pkgs))
	for i, p := range pkgs {
		out[i] = p.Name + ":" + p.Architecture + "=" + p.Version
	}
	return out
}

var amd64 = ResolveOptions{Native: "amd64"}
var amd64arm64 = ResolveOptions{Native: "amd64", Foreign: []string{"arm64"}}

// resolveCases are TestResolve's indexes, requests and answers.
var resolveCases = []struct {
	name    string
	index   []string
	want    []string
	opts    ResolveOptions
	result  []string // nil when an error is expected
	errFrag []string
}{
	{
		name: "closure via Depends and Pre-Depends, not Recommends",
		index: []string{
			pk("app 1.0 amd64", "Depends: libfoo (>= 1)", "Pre-Depends: dpkg", "Recommends: extra", "Suggests: more"),
			pk("libfoo 1.2 amd64", "Depends: libc6"),
			pk("libc6 2.36 amd64"), pk("dpkg 1.21 amd64"), pk("extra 1 amd64"), pk("more 1 amd64"),
		},
		want: []string{"app"}, opts: amd64,
		result: []string{"app:amd64=1.0", "dpkg:amd64=1.21", "libc6:amd64=2.36", "libfoo:amd64=1.2"},
	},
	{
		name:  "highest version wins",
		index: []string{pk("app 1 amd64", "Depends: libfoo"), pk("libfoo 1.0 amd64"), pk("libfoo 1.10 amd64"), pk("libfoo 1.9 amd64")},
		want:  []string{"app"}, opts: amd64,
		result: []string{"app:amd64=1", "libfoo:amd64=1.10"},
	},
	{
		// apt only installs the candidate (the highest version): it
		// reports "app : Depends: libfoo (< 2~) but 2.0 is to be
		// installed" rather than falling back to 1.5.
		name:  "a dependency the candidate does not meet is unsatisfiable",
		index: []string{pk("app 1 amd64", "Depends: libfoo (<< 2~)"), pk("libfoo 1.5 amd64"), pk("libfoo 1.0 amd64"), pk("libfoo 2.0 amd64")},
		want:  []string{"app"}, opts: amd64,
		errFrag: []string{`deb: resolve: app -> libfoo (<< 2~) but 2.0 is the candidate (`,
			`libfoo 1.5 amd64, libfoo 1.0 amd64 would satisfy it: want "libfoo=1.5"`},
	},
	{
		name:  "a wanted version replaces the candidate",
		index: []string{pk("app 1 amd64", "Depends: libfoo (<< 2~)"), pk("libfoo 1.5 amd64"), pk("libfoo 1.0 amd64"), pk("libfoo 2.0 amd64")},
		want:  []string{"app", "libfoo=1.0"}, opts: amd64,
		result: []string{"app:amd64=1", "libfoo:amd64=1.0"},
	},
	{
		name:  "a wanted constraint the candidate misses takes the highest version meeting it",
		index: []string{pk("app 1 amd64", "Depends: libfoo (<< 2~)"), pk("libfoo 1.5 amd64"), pk("libfoo 1.0 amd64"), pk("libfoo 2.0 amd64")},
		want:  []string{"libfoo (<< 2)", "app"}, opts: amd64,
		result: []string{"app:amd64=1", "libfoo:amd64=1.5"},
	},
	{
		name: "only the providers' candidates provide",
		index: []string{
			pk("app 1 amd64", "Depends: mta"),
			pk("postfix 3.7 amd64", "Provides: mta"), pk("postfix 3.8 amd64"),
		},
		want: []string{"app"}, opts: amd64,
		errFrag: []string{"app -> mta: no candidate for amd64 (have provided by postfix 3.7 amd64, which is not the candidate (3.8))"},
	},
	{
		name:  "first satisfiable alternative",
		index: []string{pk("app 1 amd64", "Depends: missing | libb (>= 2) | libc | libd"), pk("libb 1 amd64"), pk("libc 1 amd64"), pk("libd 1 amd64")},
		want:  []string{"app"}, opts: amd64,
		result: []string{"app:amd64=1", "libc:amd64=1"},
	},
	{
		name: "alternative already selected is preferred",
		index: []string{
			pk("app 1 amd64", "Depends: liba | libb"), pk("other 1 amd64", "Depends: libb"),
			pk("liba 1 amd64"), pk("libb 1 amd64"),
		},
		want: []string{"app", "other"}, opts: amd64,
		result: []string{"app:amd64=1", "libb:amd64=1", "other:amd64=1"},
	},
	{
		name: "virtual package: real package beats providers",
		index: []string{
			pk("app 1 amd64", "Depends: awk"), pk("awk 1 amd64"),
			pk("mawk 1.3 amd64", "Provides: awk", "Priority: required"),
		},
		want: []string{"app"}, opts: amd64,
		result: []string{"app:amd64=1", "awk:amd64=1"},
	},
	{
		name: "virtual package: provider by Priority, then name",
		index: []string{
			pk("app 1 amd64", "Depends: mail-transport-agent"),
			pk("postfix 3.7 amd64", "Provides: mail-transport-agent", "Priority: optional"),
			pk("exim4-daemon-light 4.96 amd64", "Provides: mail-transport-agent", "Priority: standard"),
			pk("dma 0.13 amd64", "Provides: mail-transport-agent", "Priority: optional"),
		},
		want: []string{"app"}, opts: amd64,
		result: []string{"app:amd64=1", "exim4-daemon-light:amd64=4.96"},
	},
	{
		name: "versioned provides",
		index: []string{
			pk("app 1 amd64", "Depends: libfoo-abi (>= 2)"),
			pk("foo-old 1 amd64", "Provides: libfoo-abi (= 1)"),
			pk("foo-any 1 amd64", "Provides: libfoo-abi"),
			pk("foo-new 1 amd64", "Provides: libfoo-abi (= 2.1)"),
		},
		want: []string{"app"}, opts: amd64,
		result: []string{"app:amd64=1", "foo-new:amd64=1"},
	},
	{
		name: "unversioned provide cannot satisfy a versioned dependency",
		index: []string{
			pk("app 1 amd64", "Depends: libfoo-abi (>= 2)"),
			pk("foo-any 1 amd64", "Provides: libfoo-abi"),
		},
		want: []string{"app"}, opts: amd64,
		errFrag: []string{"app -> libfoo-abi (>= 2): no candidate for amd64 (have provided by foo-any 1 amd64)"},
	},
	{
		name: "Multi-Arch: same co-installs, foreign resolves natively",
		index: []string{
			pk("app 1 amd64", "Depends: libfoo1"),
			pk("libfoo-dev 1 amd64", "Depends: libfoo1 (= 1), pkgconf"), pk("libfoo-dev 1 arm64", "Depends: libfoo1 (= 1), pkgconf", "Multi-Arch: same"),
			pk("libfoo1 1 amd64", "Multi-Arch: same"), pk("libfoo1 1 arm64", "Multi-Arch: same"),
			pk("pkgconf 1 amd64", "Multi-Arch: foreign"), pk("pkgconf 1 arm64", "Multi-Arch: foreign"),
		},
		want: []string{"app", "libfoo-dev:arm64"}, opts: amd64arm64,
		result: []string{"app:amd64=1", "libfoo-dev:arm64=1", "libfoo1:amd64=1", "libfoo1:arm64=1", "pkgconf:amd64=1"},
	},
	{
		name: "Multi-Arch: allowed with :any resolves natively",
		index: []string{
			pk("tool 1 arm64", "Depends: python3:any, perl"),
			pk("python3 3.11 amd64", "Multi-Arch: allowed"), pk("python3 3.11 arm64", "Multi-Arch: allowed"),
			pk("perl 5.36 amd64", "Multi-Arch: allowed"), pk("perl 5.36 arm64", "Multi-Arch: allowed"),
		},
		want: []string{"tool:arm64"}, opts: amd64arm64,
		// perl without :any stays in the depender's architecture.
		result: []string{"perl:arm64=5.36", "python3:amd64=3.11", "tool:arm64=1"},
	},
	{
		name:  ":any needs Multi-Arch: allowed or foreign",
		index: []string{pk("tool 1 arm64", "Depends: python3:any"), pk("python3 3.11 amd64")},
		want:  []string{"tool:arm64"}, opts: amd64arm64,
		errFrag: []string{"tool:arm64 -> python3:any: no candidate for arm64 (have python3 3.11 amd64)"},
	},
	{
		name:  "foreign package cannot use a native Multi-Arch: no dependency",
		index: []string{pk("libx-dev 1 arm64", "Depends: x-common"), pk("x-common 1 all")},
		want:  []string{"libx-dev:arm64"}, opts: amd64arm64,
		errFrag: []string{"libx-dev:arm64 -> x-common: no candidate for arm64 (have x-common 1 all)"},
	},
	{
		name:  "Architecture: all Multi-Arch: foreign satisfies a foreign package",
		index: []string{pk("libx-dev 1 arm64", "Depends: x-common"), pk("x-common 1 all", "Multi-Arch: foreign")},
		want:  []string{"libx-dev:arm64"}, opts: amd64arm64,
		result: []string{"libx-dev:arm64=1", "x-common:all=1"},
	},
	{
		name:  "two architectures need Multi-Arch: same",
		index: []string{pk("tool 1 amd64", "Multi-Arch: allowed"), pk("tool 1 arm64", "Multi-Arch: allowed")},
		want:  []string{"tool", "tool:arm64"}, opts: amd64arm64,
		errFrag: []string{"tool:arm64", "cannot be co-installed with tool:amd64", "not both Multi-Arch: same"},
	},
	{
		name:  "Multi-Arch: same needs equal versions",
		index: []string{pk("libz 1.3 amd64", "Multi-Arch: same"), pk("libz 1.2 arm64", "Multi-Arch: same")},
		want:  []string{"libz", "libz:arm64"}, opts: amd64arm64,
		errFrag: []string{"libz:arm64 1.2 cannot be co-installed with libz:amd64 1.3", "equal versions"},
	},
	{
		name:  "foreign architecture not enabled",
		index: []string{pk("libz 1.3 arm64", "Multi-Arch: same")},
		want:  []string{"libz:arm64"}, opts: amd64,
		errFrag: []string{"libz:arm64: no candidate for arm64 (have libz 1.3 arm64 Multi-Arch: same)"},
	},
	{
		name: "unsatisfiable chain",
		index: []string{
			pk("gcc 4:12.2.0-3 amd64", "Depends: gcc-12 (>= 12.2.0-1~)"),
			pk("gcc-12 12.2.0-14 amd64", "Depends: cpp-12 (= 12.2.0-14), libc6"),
			pk("cpp-12 12.2.0-13 amd64"), pk("libc6 2.36 amd64"),
		},
		want: []string{"gcc"}, opts: amd64,
		errFrag: []string{"deb: resolve: gcc -> gcc-12 -> cpp-12 (= 12.2.0-14) but 12.2.0-13 is the candidate"},
	},
	{
		name:  "unknown package",
		index: []string{pk("app 1 amd64", "Depends: libgone")},
		want:  []string{"app"}, opts: amd64,
		errFrag: []string{"app -> libgone: no candidate (no package or provider of that name)"},
	},
	{
		name: "a wanted version is the candidate for dependencies",
		index: []string{
			pk("first 1 amd64", "Depends: libfoo (<< 2)"), pk("second 1 amd64", "Depends: libfoo (>= 2)"),
			pk("libfoo 1 amd64"), pk("libfoo 2 amd64"),
		},
		want: []string{"libfoo=1", "first", "second"}, opts: amd64,
		errFrag: []string{`second -> libfoo (>= 2) but 1 (selected by the wanted spec "libfoo=1") is the candidate`},
	},
	{
		name: "alternatives: each one's candidate",
		index: []string{
			pk("app 1 amd64", "Depends: liba (>= 2) | libb (<< 1)"),
			pk("liba 1 amd64"), pk("libb 1 amd64"), pk("libb 0.9 amd64"),
		},
		want: []string{"app"}, opts: amd64,
		errFrag: []string{`app -> liba (>= 2) | libb (<< 1): liba (>= 2) but 1 is the candidate; libb (<< 1) but 1 is the candidate (`},
	},
	{
		name: "wanted version already selected",
		index: []string{
			pk("app 1 amd64", "Depends: libfoo"), pk("libfoo 1 amd64"), pk("libfoo 2 amd64"),
		},
		want: []string{"libfoo=1", "libfoo (>= 2)", "app"}, opts: amd64,
		errFrag: []string{`libfoo (>= 2): libfoo 1 is already selected (libfoo=1 -> libfoo)`},
	},
	{
		name:  "Conflicts",
		index: []string{pk("app 1 amd64", "Depends: liba, libb"), pk("liba 1 amd64", "Conflicts: libb"), pk("libb 1 amd64")},
		want:  []string{"app"}, opts: amd64,
		errFrag: []string{"liba 1 (app -> liba) Conflicts: libb, but libb 1 is selected (app -> libb)"},
	},
	{
		name:  "Breaks with a matching version",
		index: []string{pk("app 1 amd64", "Depends: liba, libb"), pk("liba 1 amd64", "Breaks: libb (<< 2)"), pk("libb 1.5 amd64")},
		want:  []string{"app"}, opts: amd64,
		errFrag: []string{"liba 1 (app -> liba) Breaks: libb (<< 2), but libb 1.5 is selected"},
	},
	{
		name:  "Breaks with a non-matching version",
		index: []string{pk("app 1 amd64", "Depends: liba, libb"), pk("liba 1 amd64", "Breaks: libb (<< 2)"), pk("libb 2 amd64")},
		want:  []string{"app"}, opts: amd64,
		result: []string{"app:amd64=1", "liba:amd64=1", "libb:amd64=2"},
	},
	{
		name:  "Conflicts against a virtual package, any architecture",
		index: []string{pk("liba 1 amd64", "Conflicts: mta"), pk("libb 1 arm64", "Provides: mta", "Multi-Arch: same")},
		want:  []string{"liba", "libb:arm64"}, opts: amd64arm64,
		errFrag: []string{"liba 1 (liba) Conflicts: mta, but libb:arm64 1 is selected and provides mta (libb:arm64)"},
	},
	{
		name:  "Provides+Conflicts of one's own virtual package is fine",
		index: []string{pk("app 1 amd64", "Depends: mta"), pk("postfix 1 amd64", "Provides: mta", "Conflicts: mta")},
		want:  []string{"app"}, opts: amd64,
		result: []string{"app:amd64=1", "postfix:amd64=1"},
	},
	{
		name: "Essential packages of the native architecture",
		index: []string{
			pk("app 1 amd64"),
			pk("base-files 12 amd64", "Essential: yes"), pk("dash 0.5 amd64", "Essential: yes", "Pre-Depends: libc6"),
			pk("libc6 2.36 amd64"), pk("arm-only 1 arm64", "Essential: yes"), pk("base-passwd 3 all", "Essential: yes"),
			pk("not-essential 1 amd64", "Essential: no"),
		},
		want: []string{"app"}, opts: ResolveOptions{Native: "amd64", Foreign: []string{"arm64"}, Essential: true},
		result: []string{"app:amd64=1", "base-files:amd64=12", "base-passwd:all=3", "dash:amd64=0.5", "libc6:amd64=2.36"},
	},
	{
		name:  "spec forms",
		index: []string{pk("make 4.3-4.1 amd64"), pk("make 4.2 amd64"), pk("gcc 4:12.2.0-3 amd64"), pk("gcc 4:10 amd64"), pk("bc 1 amd64")},
		want:  []string{"make (>= 4)", "gcc=4:10", "  nope | bc  "}, opts: amd64,
		result: []string{"bc:amd64=1", "gcc:amd64=4:10", "make:amd64=4.3-4.1"},
	},
	{
		name:  "spec with an unmet version",
		index: []string{pk("make 4.3-4.1 amd64")},
		want:  []string{"make (>= 5)"}, opts: amd64,
		errFrag: []string{"deb: resolve: make (>= 5): no candidate for amd64 (have make 4.3-4.1 amd64)"},
	},
	{
		name:  "bad spec",
		index: []string{pk("make 4.3-4.1 amd64")},
		want:  []string{"make, gcc"}, opts: amd64,
		errFrag: []string{`package spec "make, gcc": want exactly one package`},
	},
	{
		name:  "bad native architecture",
		index: []string{pk("make 4.3-4.1 amd64")},
		want:  []string{"make"}, opts: ResolveOptions{Native: "all"},
		errFrag: []string{`native architecture "all"`},
	},
}

func TestResolve(t *testing.T) {
	for _, tc := range resolveCases {
		t.Run(tc.name, func(t *testing.T) {
			ix := testIndex(t, tc.index...)
			got, err := ix.Resolve(tc.want, tc.opts)
			if tc.result == nil {
				wantErr(t, err, tc.errFrag...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), tc.result) {
				t.Fatalf("Resolve(%q) =\n %v\nwant\n %v", tc.want, ids(got), tc.result)
			}
			for _, p := range got {
				if ix.Lookup(p.Name, p.Version, p.Architecture) != p {
					t.Errorf("%s is not the index's own package", p)
				}
			}
			again, _ := ix.Resolve(tc.want, tc.opts)
			if !reflect.DeepEqual(ids(again), ids(got)) {
				t.Fatalf("not deterministic: %v then %v", ids(got), ids(again))
			}
		})
	}
}

func TestNewIndexDedupe(t *testing.T) {
	amd, err := ParsePackages(strings.NewReader(pk("data 1 all")+"\n"+pk("tool 1 amd64")), "r/main")
	if err != nil {
		t.Fatal(err)
	}
	arm, err := ParsePackages(strings.NewReader(pk("data 1 all")+"\n"+pk("tool 1 arm64")), "r/main")
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(amd, arm)
	if ix.Len() != 3 {
		t.Fatalf("Len() = %d, want 3 (data:all once)", ix.Len())
	}
	if ix.Lookup("data", "1", "all") != amd[0] {
		t.Errorf("duplicate did not keep the first list's package")
	}
	if got := ix.Versions("tool"); len(got) != 2 {
		t.Errorf("Versions(tool) = %v", got)
	}
	if ix.Lookup("tool", "2", "amd64") != nil {
		t.Errorf("Lookup of a missing version found something")
	}
}
