package deb

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestRealResolveMatchesApt resolves the same wanted sets with real apt
// (apt-get install -s on an empty dpkg status) and compares the selections
// package by package. apt reads the very files Client cached, served from
// a file: source, so both see identical, verified data and the test runs
// offline.
func TestRealResolveMatchesApt(t *testing.T) {
	rel, amd, arm := realBookworm(t)
	aptGet, root := aptRoot(t, rel)
	ix := NewIndex(amd, arm)
	// Few, large sets: each apt-get -s costs seconds here.
	for _, want := range [][]string{
		{"make", "libseccomp-dev:arm64", "gcc"},
		append([]string{"build-essential", "debhelper", "git", "curl", "openssh-client", "python3",
			"postfix", "mutt", "sudo", "locales", "systemd"}, builderWorld...),
		{"libssl-dev:arm64", "zlib1g-dev:arm64", "pkg-config", "crossbuild-essential-arm64", "python3-dev:arm64", "dpkg-dev:arm64"},
	} {
		t.Run(want[0], func(t *testing.T) {
			got, err := ix.Resolve(want, amd64arm64)
			if err != nil {
				t.Fatal(err)
			}
			ours := selection(got)
			theirs := aptSimulate(t, aptGet, root, want)
			if !reflect.DeepEqual(ours, theirs) {
				t.Fatalf("selection differs from apt's:\nours:  %v\napt's: %v", ours, theirs)
			}
		})
	}
}

// aptName spells a package the way apt-get -s prints it for an amd64
// native root.
func aptName(name, arch string) string {
	if arch == "amd64" || arch == "all" {
		return name
	}
	return name + ":" + arch
}

// aptRoot builds an apt configuration whose only source is a file:
// mirror made of symlinks into the Client cache, and updates it with the
// apt-get it returns; it skips the test without apt-get.
func aptRoot(t *testing.T, rel *Release) (aptGet, root string) {
	t.Helper()
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		t.Skip("apt-get not installed")
	}
	root = t.TempDir()
	mirror := filepath.Join(root, "mirror")
	link := func(target, name string) {
		p := filepath.Join(mirror, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := joinURL(debianURL, "dists/bookworm/InRelease")
	link(realClient(t).inReleasePath(u.String()), "dists/bookworm/InRelease")
	for _, arch := range []string{"amd64", "arm64"} {
		dir := "dists/bookworm/main/binary-" + arch
		for _, name := range []string{"Packages", "Packages.xz"} {
			fh := rel.Files["main/binary-"+arch+"/"+name]
			blob := realClient(t).blobPath(fh.SHA256)
			if _, err := os.Stat(blob); err != nil {
				t.Fatalf("%s/%s not cached: %v", dir, name, err)
			}
			link(blob, dir+"/"+name)
			link(blob, dir+"/by-hash/SHA256/"+fh.SHA256)
		}
	}
	for _, d := range []string{"etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d",
		"var/lib/apt/lists/partial", "var/lib/dpkg", "var/cache/apt/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	keys, _ := filepath.Abs("testdata/keys/debian-archive-bookworm-automatic.gpg")
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("var/lib/dpkg/status", "")
	write("etc/apt/sources.list", "deb [arch=amd64,arm64 signed-by="+keys+"] file:"+mirror+" bookworm main\n")
	write("apt.conf", `Dir "`+root+`/";
Dir::State::status "`+root+`/var/lib/dpkg/status";
APT::Architecture "amd64";
APT::Architectures { "amd64"; "arm64"; };
APT::Install-Recommends "false";
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
`)
	runApt(t, aptGet, root, "update")
	return aptGet, root
}

func runApt(t *testing.T, aptGet, root string, args ...string) string {
	t.Helper()
	cmd := exec.Command(aptGet, append([]string{"-q"}, args...)...)
	cmd.Env = append(os.Environ(), "APT_CONFIG="+filepath.Join(root, "apt.conf"), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// aptSimulate returns apt's "name[:arch] version" selection, sorted.
func aptSimulate(t *testing.T, aptGet, root string, want []string) []string {
	out := runApt(t, aptGet, root, append([]string{"install", "-s"}, want...)...)
	sel := aptSelection(out)
	if len(sel) == 0 {
		t.Fatalf("apt selected nothing:\n%s", out)
	}
	return sel
}

// aptSelection reads the "Inst" lines of `apt-get install -s` output as
// sorted "name[:arch] version" entries.
func aptSelection(out string) []string {
	var sel []string
	for _, line := range strings.Split(out, "\n") {
		// Inst libseccomp-dev:arm64 (2.5.4-1+deb12u1 Debian:12.15/oldstable [arm64])
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "Inst" {
			sel = append(sel, f[1]+" "+strings.TrimPrefix(f[2], "("))
		}
	}
	sort.Strings(sel)
	return sel
}

// selection is a resolver answer in aptSelection's form.
func selection(got []*Package) []string {
	var ours []string
	for _, p := range got {
		ours = append(ours, aptName(p.Name, p.Architecture)+" "+p.Version)
	}
	sort.Strings(ours)
	return ours
}
