package apk

import "testing"

func TestParseDependency(t *testing.T) {
	good := []struct {
		in   string
		want Dependency
	}{
		{"busybox", Dependency{Name: "busybox"}},
		{"!busybox", Dependency{Name: "busybox", Conflict: true}},
		{"musl=1.2.4_git20230717-r4", Dependency{Name: "musl", Op: "=", Version: "1.2.4_git20230717-r4"}},
		{"musl>=1.2", Dependency{Name: "musl", Op: ">=", Version: "1.2"}},
		{"musl<=1.2", Dependency{Name: "musl", Op: "<=", Version: "1.2"}},
		{"musl>1.2", Dependency{Name: "musl", Op: ">", Version: "1.2"}},
		{"musl<1", Dependency{Name: "musl", Op: "<", Version: "1"}},
		{"musl~1.2", Dependency{Name: "musl", Op: "~", Version: "1.2"}},
		{"musl>~1.2", Dependency{Name: "musl", Op: ">~", Version: "1.2"}},
		{"!musl<1.2", Dependency{Name: "musl", Op: "<", Version: "1.2", Conflict: true}},
		{"so:libc.musl-x86_64.so.1", Dependency{Name: "so:libc.musl-x86_64.so.1"}},
		{"so:libz.so.1=1.3.1", Dependency{Name: "so:libz.so.1", Op: "=", Version: "1.3.1"}},
		{"cmd:sh", Dependency{Name: "cmd:sh"}},
		{"pc:zlib>=1.2", Dependency{Name: "pc:zlib", Op: ">=", Version: "1.2"}},
		{"/bin/sh", Dependency{Name: "/bin/sh"}},
		{"foo><Q1abcdef=", Dependency{Name: "foo", Op: "><", Version: "Q1abcdef="}},
	}
	for _, tc := range good {
		got, err := ParseDependency(tc.in)
		if err != nil {
			t.Errorf("ParseDependency(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseDependency(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("ParseDependency(%q).String() = %q", tc.in, got.String())
		}
	}
	// apk ORs operator characters together, so "=>" and "==" are accepted.
	bad := []string{"", "!", ">=1.0", "foo=", "foo=abc", "foo>=1.0_bogus", "foo bar"}
	for _, in := range bad {
		if d, err := ParseDependency(in); err == nil {
			t.Errorf("ParseDependency(%q) = %+v, want error", in, d)
		}
	}
}

func TestDependencyMatching(t *testing.T) {
	p := provider{pkg: &pkg{pkg: &Package{Checksum: "Q1x"}}, version: "1.2.3-r1"}
	virt := provider{pkg: p.pkg, virtual: true}
	cases := []struct {
		atom string
		p    provider
		want bool
	}{
		{"a", p, true},
		{"!a", p, false},
		{"!a", provider{}, true},
		{"a", provider{}, false},
		{"a=1.2.3-r1", p, true},
		{"a=1.2.3", p, false},
		{"a>=1.2", p, true},
		{"a<1.2.3", p, false},
		{"a~1.2", p, true},
		{"a~1.3", p, false},
		{"!a<1.2", p, true},
		{"!a>=1.2", p, false},
		{"a>=1", virt, false},
		{"!a>=1", virt, true},
		{"a", virt, true},
		{"a><Q1x", p, true},
		{"a><Q1y", p, false},
	}
	d := &db{names: map[string]*name{}}
	for _, tc := range cases {
		pd, err := ParseDependency(tc.atom)
		if err != nil {
			t.Fatal(err)
		}
		dp := d.newDep(pd, false)
		if got := dp.isProvided(tc.p); got != tc.want {
			t.Errorf("%s provided by %+v = %v, want %v", tc.atom, tc.p.version, got, tc.want)
		}
	}
}
