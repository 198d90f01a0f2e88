package apk

import (
	"bytes"
	"strings"
	"testing"
)

const sampleIndex = `C:Q1abc=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407170
I:667648
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1705068826
c:bbec3cd6b4d2a3d4d2a2f1b2b6c0b5b41f0d64d4
p:so:libc.musl-x86_64.so.1=1
F:future field

P:busybox-binsh
V:1.36.1-r19
D:busybox=1.36.1-r19
p:/bin/sh cmd:sh=1.36.1-r19
k:100
i:busybox=1.36.1-r19 openrc

`

func TestParseIndexSample(t *testing.T) {
	pkgs, err := ParseIndex(strings.NewReader(sampleIndex))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 {
		t.Fatalf("got %d packages", len(pkgs))
	}
	m := pkgs[0]
	if m.Name != "musl" || m.Version != "1.2.4_git20230717-r4" || m.Arch != "x86_64" ||
		m.Checksum != "Q1abc=" || m.Size != 407170 || m.InstalledSize != 667648 ||
		m.BuildTime != 1705068826 || m.Origin != "musl" || m.License != "MIT" ||
		m.URL != "https://musl.libc.org/" || !strings.HasPrefix(m.Maintainer, "Timo") ||
		m.Commit == "" || m.Description == "" || len(m.Provides) != 1 || m.HasPriority {
		t.Errorf("musl parsed wrong: %+v", m)
	}
	b := pkgs[1]
	if !b.HasPriority || b.ProviderPriority != 100 || len(b.Provides) != 2 ||
		len(b.InstallIf) != 2 || len(b.Depends) != 1 {
		t.Errorf("busybox-binsh parsed wrong: %+v", b)
	}
}

func TestParseIndexErrors(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"no prefix", "P:a\nV:1\nhello\n", "line 3: malformed"},
		{"colon late", "P:a\nVV:1\n", "line 2: malformed"},
		{"bad letter", "P:a\n1:x\n", "line 2: malformed"},
		{"missing P", "V:1\nA:x86_64\n\n", "line 1: missing P:"},
		{"missing V", "P:a\nA:x86_64\n", "line 1 (a): missing V:"},
		{"missing V second", "P:a\nV:1\n\nP:b\n", "line 4 (b): missing V:"},
		{"bad size", "P:a\nV:1\nS:12x\n", "line 3: field S: bad integer"},
		{"negative installed", "P:a\nV:1\nI:-5\n", "line 3: field I: bad integer"},
		{"bad time", "P:a\nV:1\nt:\n", "line 3: field t: bad integer"},
		{"bad priority", "P:a\nV:1\nk:1e3\n", "line 3: field k: bad integer"},
		{"huge priority", "P:a\nV:1\nk:99999999999\n", "line 3: field k: bad integer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIndex(strings.NewReader(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseIndexTolerant(t *testing.T) {
	// CRLF line ends, several blank lines, no trailing blank line, unknown fields.
	text := "P:a\r\nV:1\r\nZ:whatever\r\n\r\n\r\nP:b\nV:2\nx:new"
	pkgs, err := ParseIndex(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || pkgs[0].Name != "a" || pkgs[1].Version != "2" {
		t.Fatalf("got %+v", pkgs)
	}
	if pkgs, err := ParseIndex(strings.NewReader("")); err != nil || len(pkgs) != 0 {
		t.Fatalf("empty index: %v %v", pkgs, err)
	}
}

func TestParseRealIndexes(t *testing.T) {
	for _, tc := range []struct {
		repo string
		want int
	}{{"main", 5443}, {"community", 17587}} {
		pkgs, err := ParseIndex(bytes.NewReader(indexText(t, tc.repo)))
		if err != nil {
			t.Fatalf("%s: %v", tc.repo, err)
		}
		if len(pkgs) != tc.want {
			t.Errorf("%s: %d packages, want %d", tc.repo, len(pkgs), tc.want)
		}
		for _, p := range pkgs {
			if !ValidVersion(p.Version) {
				t.Errorf("%s: invalid version %s", tc.repo, p)
			}
			for _, a := range append(append(append([]string{}, p.Depends...), p.Provides...), p.InstallIf...) {
				if _, err := ParseDependency(a); err != nil {
					t.Errorf("%s: %s: %v", tc.repo, p, err)
				}
			}
		}
	}
}
