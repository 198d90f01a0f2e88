package deb

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// twoSuites is a synthetic bookworm plus bookworm-security: the security
// suite carries newer libc6, libssl3, openssl, libfoo, mta-old and
// tzdata, as point releases and security updates do.
var twoSuites = []string{"testdata/twosuites/bookworm", "testdata/twosuites/bookworm-security"}

func twoSuiteIndex(t *testing.T) *Index {
	t.Helper()
	var lists [][]*Package
	for _, dir := range twoSuites {
		f, err := os.Open(filepath.Join(dir, "Packages"))
		if err != nil {
			t.Fatal(err)
		}
		pkgs, err := ParsePackages(f, filepath.Base(dir)+"/main")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, pkgs)
	}
	return NewIndex(lists...)
}

// TestResolveCandidateTwoSuites checks that dependencies are satisfied
// only by candidates (the highest version across both suites), as apt
// does, and that only a wanted spec can choose an older version. Each
// expectation was taken from apt-get install -s on the same two suites,
// and when apt-get is installed the test asks it again.
func TestResolveCandidateTwoSuites(t *testing.T) {
	ix := twoSuiteIndex(t)
	tests := []struct {
		want []string
		// result is the selection as apt-get -s prints it ("name
		// version", sorted); nil when both refuse.
		result []string
		// errFrag must appear in our error; aptUnmet in apt's output.
		errFrag  []string
		aptUnmet string
	}{
		{
			want:   []string{"openssl"},
			result: []string{"libc6 2.36-9+deb12u10", "libssl3 3.0.16-1~deb12u1", "openssl 3.0.16-1~deb12u1"},
		},
		{
			want:   []string{"yy"},
			result: []string{"libfoo 1.1", "yy 1"},
		},
		{
			// libfoo 1.0 (bookworm) would satisfy xx, but 1.1 (security)
			// is the candidate.
			want:     []string{"xx"},
			errFrag:  []string{`deb: resolve: xx -> libfoo (<< 1.1) but 1.1 is the candidate`, `libfoo 1.0 amd64 would satisfy it: want "libfoo=1.0"`},
			aptUnmet: "xx : Depends: libfoo (< 1.1) but 1.1 is to be installed",
		},
		{
			want:     []string{"xx", "yy"},
			errFrag:  []string{`xx -> libfoo (<< 1.1) but 1.1 is the candidate`},
			aptUnmet: "xx : Depends: libfoo (< 1.1) but 1.1 is to be installed",
		},
		{
			want:   []string{"xx", "libfoo=1.0"},
			result: []string{"libfoo 1.0", "xx 1"},
		},
		{
			want:   []string{"xx", "yy", "libfoo=1.0"},
			result: []string{"libfoo 1.0", "xx 1", "yy 1"},
		},
		{
			want:     []string{"legacy-tool"},
			errFrag:  []string{`legacy-tool -> libssl3 (= 3.0.15-1~deb12u1) but 3.0.16-1~deb12u1 is the candidate`},
			aptUnmet: "legacy-tool : Depends: libssl3 (= 3.0.15-1~deb12u1) but 3.0.16-1~deb12u1 is to be installed",
		},
		{
			// Pinning libssl3 leaves libc6 at its candidate.
			want:   []string{"legacy-tool", "libssl3=3.0.15-1~deb12u1"},
			result: []string{"legacy-tool 1.0-1", "libc6 2.36-9+deb12u10", "libssl3 3.0.15-1~deb12u1"},
		},
		{
			// A wanted version is the candidate for what depends on it.
			want:     []string{"openssl", "libssl3=3.0.15-1~deb12u1"},
			errFrag:  []string{`openssl -> libssl3 (>= 3.0.16) but 3.0.15-1~deb12u1 (selected by the wanted spec "libssl3=3.0.15-1~deb12u1") is the candidate`},
			aptUnmet: "openssl : Depends: libssl3 (>= 3.0.16) but 3.0.15-1~deb12u1 is to be installed",
		},
		{
			// An older openssl on its own still gets the newest libssl3.
			want:   []string{"openssl=3.0.15-1~deb12u1"},
			result: []string{"libc6 2.36-9+deb12u10", "libssl3 3.0.16-1~deb12u1", "openssl 3.0.15-1~deb12u1"},
		},
		{
			// Only mta-old 1, not the candidate 2, provides it.
			want:     []string{"needs-mta"},
			errFrag:  []string{"needs-mta -> mail-transport-agent: no candidate for amd64 (have provided by mta-old 1 amd64, which is not the candidate (2))"},
			aptUnmet: "needs-mta : Depends: mail-transport-agent",
		},
		{
			// Versioned provides too: libfoo 1.1 provides libfoo-abi (= 2).
			want:     []string{"zz"},
			errFrag:  []string{"zz -> libfoo-abi (= 1): no candidate for amd64 (have provided by libfoo 1.0 amd64 as version 1, which is not the candidate (1.1), provided by libfoo 1.1 amd64 as version 2)"},
			aptUnmet: "zz : Depends: libfoo-abi (= 1)",
		},
		{
			want:     []string{"clock"},
			errFrag:  []string{"clock -> tzdata (<< 2025) but 2025b-0+deb12u1 is the candidate"},
			aptUnmet: "clock : Depends: tzdata (< 2025) but 2025b-0+deb12u1 is to be installed",
		},
		{
			want:   []string{"clock", "tzdata=2024a-0+deb12u1"},
			result: []string{"clock 1", "tzdata 2024a-0+deb12u1"},
		},
	}
	var aptRoot string
	if aptGet, err := exec.LookPath("apt-get"); err == nil && !testing.Short() {
		aptRoot = flatAptRoot(t, aptGet, twoSuites...)
	} else {
		t.Log("not comparing with apt-get: not installed, or -short")
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.want, " "), func(t *testing.T) {
			got, err := ix.Resolve(tc.want, amd64)
			if tc.result == nil {
				wantErr(t, err, tc.errFrag...)
			} else {
				if err != nil {
					t.Fatal(err)
				}
				ours := selection(got)
				if !reflect.DeepEqual(ours, tc.result) {
					t.Fatalf("Resolve(%q) = %v, want %v", tc.want, ours, tc.result)
				}
			}
			if aptRoot == "" {
				return
			}
			sel, out, ok := aptTry(t, aptRoot, tc.want)
			switch {
			case tc.result == nil && ok:
				t.Fatalf("apt-get installs %v where we refuse:\n%s", sel, out)
			case tc.result == nil && !strings.Contains(out, tc.aptUnmet):
				t.Fatalf("apt-get's output lacks %q:\n%s", tc.aptUnmet, out)
			case tc.result != nil && !reflect.DeepEqual(sel, tc.result):
				t.Fatalf("apt-get selects %v, want %v:\n%s", sel, tc.result, out)
			}
		})
	}
}

// flatAptRoot builds an apt configuration for an amd64 root with an
// empty dpkg status, whose sources are the given flat repositories (each
// a directory with a Packages file), in order.
func flatAptRoot(t *testing.T, aptGet string, repos ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d",
		"var/lib/apt/lists/partial", "var/lib/dpkg", "var/cache/apt/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var sources strings.Builder
	for _, r := range repos {
		abs, err := filepath.Abs(r)
		if err != nil {
			t.Fatal(err)
		}
		sources.WriteString("deb [trusted=yes] file:" + abs + " ./\n")
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("var/lib/dpkg/status", "")
	write("etc/apt/sources.list", sources.String())
	write("apt.conf", `Dir "`+root+`/";
Dir::State::status "`+root+`/var/lib/dpkg/status";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Install-Recommends "false";
APT::Sandbox::User "root";
Acquire::Languages "none";
`)
	runApt(t, aptGet, root, "update")
	return root
}

// aptTry runs apt-get install -s and returns its selection ("name
// version", sorted), its output, and whether it succeeded.
func aptTry(t *testing.T, root string, want []string) ([]string, string, bool) {
	t.Helper()
	cmd := exec.Command("apt-get", append([]string{"-q", "install", "-s"}, want...)...)
	cmd.Env = append(os.Environ(), "APT_CONFIG="+filepath.Join(root, "apt.conf"), "LC_ALL=C")
	b, err := cmd.CombinedOutput()
	out := string(b)
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("apt-get: %v", err)
		}
		return nil, out, false
	}
	return aptSelection(out), out, true
}
