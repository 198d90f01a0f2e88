package deb

import (
	"strings"
	"testing"
)

// samplePackages is three stanzas copied verbatim from bookworm's
// main/binary-amd64/Packages (point release 12.15).
const samplePackages = `
Package: debconf
Version: 1.5.82
Installed-Size: 491
Maintainer: Debconf Developers <debconf-devel@lists.alioth.debian.org>
Architecture: all
Replaces: debconf-tiny
Provides: debconf-2.0
Recommends: apt-utils, debconf-i18n
Suggests: debconf-doc, debconf-kde-helper, debconf-utils, libgtk3-perl, libnet-ldap-perl, libterm-readline-gnu-perl, perl, whiptail | dialog
Conflicts: debconf-tiny, whiptail-utf8 (<= 0.50.17-13)
Description: Debian configuration management system
Multi-Arch: foreign
Description-md5: 85b82bf406dfc9a635114f44ab7fb66d
Tag: admin::configuring, implemented-in::perl, interface::commandline,
 interface::graphical, interface::text-mode, interface::x11,
 role::program, scope::utility, suite::debian, uitoolkit::TODO,
 uitoolkit::gtk, uitoolkit::ncurses, uitoolkit::qt, use::configuring,
 x11::application
Section: admin
Priority: required
Filename: pool/main/d/debconf/debconf_1.5.82_all.deb
Size: 121212
MD5sum: ab40b7d3c7dd743f16d0d24ce3373270
SHA256: 74ab14194a3762b2fc717917dcfda42929ab98e3c59295a063344dc551cd7cc8

Package: libseccomp2
Source: libseccomp
Version: 2.5.4-1+deb12u1
Installed-Size: 148
Maintainer: Kees Cook <kees@debian.org>
Architecture: amd64
Depends: libc6 (>= 2.4)
Description: high level interface to Linux seccomp filter
Multi-Arch: same
Homepage: https://github.com/seccomp/libseccomp
Description-md5: 7ee97a8161e83bfebc75870eb92bde51
Tag: role::shared-lib
Section: libs
Priority: optional
Filename: pool/main/libs/libseccomp/libseccomp2_2.5.4-1+deb12u1_amd64.deb
Size: 46808
MD5sum: 5293b60f5e27046c0b7901f6c9188fe7
SHA256: 108fe67957ca7cf9ba51d801118a1b37d404bea7b6e365025cd00779e9eca38d

Package: make
Source: make-dfsg
Version: 4.3-4.1
Installed-Size: 1592
Maintainer: Manoj Srivastava <srivasta@debian.org>
Architecture: amd64
Replaces: make-guile
Depends: libc6 (>= 2.27)
Suggests: make-doc
Conflicts: make-guile
Description: utility for directing compilation
Multi-Arch: allowed
Homepage: https://www.gnu.org/software/make/
Description-md5: 3ef13fe0be8e85cb535b13ff062ae8eb
Build-Essential: yes
Tag: devel::buildtools, implemented-in::c, interface::commandline,
 role::program, scope::utility, suite::gnu, works-with::software:source
Section: devel
Priority: optional
Filename: pool/main/m/make-dfsg/make_4.3-4.1_amd64.deb
Size: 395632
MD5sum: ad23a28085ea694f6677b80baca3ff34
SHA256: a1a83af8cbd854af887b72ad196b1f4af58387815e21ced1000253a116a46e2a

`

func TestParsePackagesReal(t *testing.T) {
	pkgs, err := ParsePackages(strings.NewReader(samplePackages), "bookworm/main")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 3 {
		t.Fatalf("got %d packages, want 3", len(pkgs))
	}
	deb, seccomp, mk := pkgs[0], pkgs[1], pkgs[2]
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	check("debconf Name", deb.Name, "debconf")
	check("debconf Architecture", deb.Architecture, "all")
	check("debconf MultiArch", deb.MultiArch, "foreign")
	check("debconf Priority", deb.Priority, "required")
	check("debconf Source (defaults to Name)", deb.Source, "debconf")
	check("debconf SourceVersion", deb.SourceVersion, "1.5.82")
	check("debconf Provides", deb.Provides[0].String(), "debconf-2.0")
	check("debconf Conflicts", deb.Conflicts[1].String(), "whiptail-utf8 (<= 0.50.17-13)")
	check("libseccomp2 Source", seccomp.Source, "libseccomp")
	check("libseccomp2 Version", seccomp.Version, "2.5.4-1+deb12u1")
	check("libseccomp2 Depends", seccomp.Depends[0].String(), "libc6 (>= 2.4)")
	check("libseccomp2 Filename", seccomp.Filename, "pool/main/libs/libseccomp/libseccomp2_2.5.4-1+deb12u1_amd64.deb")
	check("libseccomp2 SHA256", seccomp.SHA256, "108fe67957ca7cf9ba51d801118a1b37d404bea7b6e365025cd00779e9eca38d")
	check("make Source", mk.Source, "make-dfsg")
	check("make MultiArch", mk.MultiArch, "allowed")
	check("make Repository", mk.Repository, "bookworm/main")
	if seccomp.Size != 46808 || seccomp.InstalledSize != 148 {
		t.Errorf("libseccomp2 Size/Installed-Size = %d/%d", seccomp.Size, seccomp.InstalledSize)
	}
	if mk.Essential || deb.Essential {
		t.Errorf("Essential set on non-essential packages")
	}
}

// stanza builds a minimal valid stanza with the given extra/overriding
// lines appended.
func stanza(extra ...string) string {
	base := map[string]string{
		"Package": "foo", "Version": "1.0-1", "Architecture": "amd64",
		"Filename": "pool/main/f/foo/foo_1.0-1_amd64.deb", "Size": "100",
		"SHA256": strings.Repeat("0", 64),
	}
	var b strings.Builder
	for _, k := range []string{"Package", "Version", "Architecture", "Filename", "Size", "SHA256"} {
		override := false
		for _, e := range extra {
			if strings.HasPrefix(e, k+":") || e == "-"+k {
				override = true
			}
		}
		if !override {
			b.WriteString(k + ": " + base[k] + "\n")
		}
	}
	for _, e := range extra {
		if !strings.HasPrefix(e, "-") {
			b.WriteString(e + "\n")
		}
	}
	return b.String()
}

func TestParsePackagesSyntax(t *testing.T) {
	tests := []struct {
		name, text string
		n          int
		check      func(t *testing.T, p []*Package)
	}{
		{name: "empty", text: "", n: 0},
		{name: "blank lines only", text: "\n\n \n", n: 0},
		{name: "CRLF", text: strings.ReplaceAll(stanza("Depends: libc6 (>= 2.36)")+"\n"+stanza("Package: bar"), "\n", "\r\n"), n: 2,
			check: func(t *testing.T, p []*Package) {
				if p[0].Depends[0][0].Version != "2.36" || p[1].Name != "bar" {
					t.Errorf("CRLF parse: %+v %+v", p[0].Depends, p[1])
				}
			}},
		{name: "case-insensitive field names", text: stanza("pre-depends: dpkg (>= 1.15)", "ESSENTIAL: yes"), n: 1,
			check: func(t *testing.T, p []*Package) {
				if len(p[0].PreDepends) != 1 || !p[0].Essential {
					t.Errorf("got %+v", p[0])
				}
			}},
		{name: "folded Depends", text: stanza("Depends: aa,\n bb (>= 1),\n\tcc"), n: 1,
			check: func(t *testing.T, p []*Package) {
				if len(p[0].Depends) != 3 || p[0].Depends[1][0].Version != "1" {
					t.Errorf("got %v", p[0].Depends)
				}
			}},
		{name: "source with version", text: stanza("Source: foo-src (1.0-1)"), n: 1,
			check: func(t *testing.T, p []*Package) {
				if p[0].Source != "foo-src" || p[0].SourceVersion != "1.0-1" {
					t.Errorf("Source %q %q", p[0].Source, p[0].SourceVersion)
				}
			}},
		{name: "versioned provides", text: stanza("Provides: libfoo-abi (= 2), bar"), n: 1,
			check: func(t *testing.T, p []*Package) {
				if p[0].Provides[0][0].Version != "2" || p[0].Provides[1][0].Name != "bar" {
					t.Errorf("Provides %v", p[0].Provides)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePackages(strings.NewReader(tc.text), "test")
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != tc.n {
				t.Fatalf("got %d packages, want %d", len(p), tc.n)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestParsePackagesRefuses(t *testing.T) {
	tests := []struct {
		name, text string
		frags      []string
	}{
		{"absolute Filename", stanza("Filename: /etc/passwd"), []string{"line 6", "foo", "Filename", "absolute"}},
		{"dotdot Filename", stanza("Filename: pool/../../etc/passwd"), []string{"Filename", `".."`}},
		{"trailing slash Filename", stanza("Filename: pool/x/"), []string{"Filename", "not canonical"}},
		{"dotdot-only Filename", stanza("Filename: ../x.deb"), []string{"Filename", `".."`}},
		{"backslash Filename", stanza(`Filename: pool\..\x.deb`), []string{"Filename", "backslash"}},
		{"control char Filename", stanza("Filename: pool/a\x1b.deb"), []string{"Filename", "control character"}},
		{"uppercase name", stanza("Package: Foo"), []string{"Package", "must start with a lowercase"}},
		{"shell in name", stanza("Package: foo;rm"), []string{"Package", "invalid character ';'"}},
		{"bad version", stanza("Version: 1.0$(id)"), []string{"Version", "invalid character '$'"}},
		{"bad epoch", stanza("Version: x:1.0"), []string{"Version", "epoch"}},
		{"bad arch", stanza("Architecture: AMD64"), []string{"Architecture", "invalid character"}},
		{"bad sha256", stanza("SHA256: 1234"), []string{"SHA256", "64 hex"}},
		{"uppercase sha256", stanza("SHA256: " + strings.Repeat("A", 64)), []string{"SHA256", "lowercase hex"}},
		{"bad size", stanza("Size: -1"), []string{"Size", "invalid size"}},
		{"bad multi-arch", stanza("Multi-Arch: sometimes"), []string{"Multi-Arch", "unknown value"}},
		{"bad essential", stanza("Essential: maybe"), []string{"Essential", "yes or no"}},
		{"bad depends", stanza("Depends: libc6 (>= )"), []string{"Depends", "libc6"}},
		{"alternatives in provides", stanza("Provides: aa | bb"), []string{"Provides", "alternatives"}},
		{"relation in provides", stanza("Provides: aa (>= 1)"), []string{"Provides", `only "="`}},
		{"missing SHA256", stanza("-SHA256"), []string{"line 1", "foo: missing SHA256"}},
		{"missing Package", stanza("-Package"), []string{"stanza: missing Package"}},
		{"duplicate field", stanza() + "Version: 2.0\n", []string{"line 7", "duplicate field Version"}},
		{"continuation first", " foo\n" + stanza(), []string{"line 1", "continuation line"}},
		{"no colon", stanza() + "garbage\n", []string{"line 7", "malformed field"}},
		{"second stanza line number", stanza() + "\n" + stanza("Filename: /x"), []string{"line 13", "absolute"}},
		{"second stanza start line", stanza() + "\n" + stanza("-Size"), []string{"line 8", "missing Size"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePackages(strings.NewReader(tc.text), "test")
			wantErr(t, err, append([]string{"Packages (test)"}, tc.frags...)...)
		})
	}
}
