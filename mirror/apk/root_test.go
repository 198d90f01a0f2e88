package apk

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// minirootfs returns the Root of alpine-minirootfs-3.19.4-x86_64 (its
// lib/apk/db/installed and etc/apk/world), read from the shared tarball.
func minirootfs(t testing.TB) (Root, error) {
	f, err := os.Open(filepath.Join(testenv.AlpineDir(t), "minirootfs", "alpine-minirootfs-3.19.4-x86_64.tar.gz"))
	if err != nil {
		return Root{}, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return Root{}, err
	}
	tr := tar.NewReader(zr)
	var installed, world []byte
	for installed == nil || world == nil {
		h, err := tr.Next()
		if err == io.EOF {
			return Root{}, errors.New("minirootfs: no lib/apk/db/installed or etc/apk/world")
		}
		if err != nil {
			return Root{}, err
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "lib/apk/db/installed":
			installed, err = io.ReadAll(tr)
		case "etc/apk/world":
			world, err = io.ReadAll(tr)
		}
		if err != nil {
			return Root{}, err
		}
	}
	return ReadRoot(strings.NewReader(string(installed)), strings.NewReader(string(world)))
}

func loadRoot(t *testing.T, which string) Root {
	t.Helper()
	switch which {
	case "minirootfs":
		r, err := minirootfs(t)
		if errors.Is(err, os.ErrNotExist) {
			t.Skipf("real Alpine data not available: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		return r
	case "edited":
		inst, err := os.Open("testdata/root_edited_installed.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer inst.Close()
		world, err := os.Open("testdata/root_edited_world.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer world.Close()
		r, err := ReadRoot(inst, world)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Fatalf("unknown root %q", which)
	return Root{}
}

var repoByPathCache sync.Map // "v3.19/main" -> Repository

// repoByPath loads the shared x86_64 index at path ("v3.19/main", "v3.16/main").
func repoByPath(t *testing.T, path string) Repository {
	t.Helper()
	if r, ok := repoByPathCache.Load(path); ok {
		return r.(Repository)
	}
	var text []byte
	if rel, ok := strings.CutPrefix(path, "v3.19/"); ok {
		text = indexText(t, rel)
	} else {
		var err error
		text, err = readIndexText(filepath.Join(testenv.AlpineDir(t), path, "x86_64", "APKINDEX.tar.gz"))
		if errors.Is(err, os.ErrNotExist) {
			t.Skipf("real Alpine data not available: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	pkgs, err := ParseIndex(strings.NewReader(string(text)))
	if err != nil {
		t.Fatal(err)
	}
	r := Repository{Name: path, Packages: pkgs}
	repoByPathCache.Store(path, r)
	return r
}

// apkLines renders what ResolveOnRoot decided as the lines expect.sh
// records from apk's output: "ACTION NAME OLD NEW", sorted by name. Purged
// packages are the installed ones missing from selected.
func apkLines(root Root, selected []Package, changes []Change) []string {
	var out []string
	for _, c := range changes {
		p := c.Package
		switch {
		case c.Old == "":
			out = append(out, "Installing "+p.Name+" - "+p.Version)
		default:
			action := "Replacing"
			switch CompareVersions(p.Version, c.Old) {
			case 1:
				action = "Upgrading"
			case -1:
				action = "Downgrading"
			}
			out = append(out, action+" "+p.Name+" "+c.Old+" "+p.Version)
		}
	}
	kept := map[string]bool{}
	for _, p := range selected {
		kept[p.Name] = true
	}
	for _, p := range root.Installed {
		if !kept[p.Name] {
			out = append(out, "Purging "+p.Name+" "+p.Version+" -")
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.Fields(out[i])[1] < strings.Fields(out[j])[1] })
	return out
}

type rootCase struct {
	name, root string
	repos, add []string
	want       []string // apk's change lines; nil with wantErr
	wantErr    bool
}

// readRootExpectation reads a testdata/root_NAME.txt written by expect.sh.
func readRootExpectation(t *testing.T, file string) rootCase {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := rootCase{name: strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "root_"), ".txt")}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# root: "):
			c.root = strings.TrimPrefix(line, "# root: ")
		case strings.HasPrefix(line, "# repos: "):
			c.repos = strings.Fields(strings.TrimPrefix(line, "# repos: "))
		case strings.HasPrefix(line, "# add:"):
			c.add = strings.Fields(strings.TrimPrefix(line, "# add:"))
		case strings.HasPrefix(line, "#"), line == "":
		case line == "ERROR":
			c.wantErr = true
		default:
			c.want = append(c.want, line)
		}
	}
	if c.root == "" || len(c.repos) == 0 {
		t.Fatalf("%s: no root or repos", file)
	}
	return c
}

func (c rootCase) check(t *testing.T) {
	t.Helper()
	root := loadRoot(t, c.root)
	var repos []Repository
	for _, r := range c.repos {
		repos = append(repos, repoByPath(t, r))
	}
	selected, changes, err := ResolveOnRoot(repos, root, c.add)
	if c.wantErr {
		if err == nil {
			t.Errorf("add %v: apk fails but ResolveOnRoot gave %v", c.add, apkLines(root, selected, changes))
		}
		return
	}
	if err != nil {
		t.Fatalf("add %v: %v", c.add, err)
	}
	got := apkLines(root, selected, changes)
	if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
		t.Errorf("add %v:\n got %q\nwant %q\nextra: %v\nmissing: %v", c.add, got, c.want, minus(got, c.want), minus(c.want, got))
	}
	// selected is the root afterwards: each kept package is the installed
	// one, each change is in it, and nothing is listed twice.
	inst := map[string]string{}
	for _, p := range root.Installed {
		inst[p.Name] = p.Version
	}
	changed := map[string]bool{}
	for _, ch := range changes {
		changed[ch.Package.Name] = true
	}
	seen := map[string]bool{}
	for _, p := range selected {
		if seen[p.Name] {
			t.Errorf("%s selected twice", p.Name)
		}
		seen[p.Name] = true
		if v, ok := inst[p.Name]; ok && !changed[p.Name] && v != p.Version {
			t.Errorf("%s kept but selected as %s, installed %s", p.Name, p.Version, v)
		}
	}
	for name := range changed {
		if !seen[name] {
			t.Errorf("change %s not in selected", name)
		}
	}
}

// TestResolveOnRootMatchesApk compares ResolveOnRoot with what apk-tools
// 2.14.4 does for `apk add --simulate ATOMS` run inside the Alpine 3.19.4
// minirootfs (and inside an edited copy of it), recorded by expect.sh in
// testdata/root_*.txt and testdata/root_random_expected.txt.
func TestResolveOnRootMatchesApk(t *testing.T) {
	files, _ := filepath.Glob("testdata/root_*.txt")
	var cases []rootCase
	for _, file := range files {
		b := filepath.Base(file)
		if strings.HasPrefix(b, "root_random_") || strings.HasPrefix(b, "root_edited_") {
			continue
		}
		cases = append(cases, readRootExpectation(t, file))
	}
	// The worlds that must be covered.
	for _, name := range []string{"dhcpcd", "ca-certificates", "issue", "musl-dev", "openrc",
		"busybox-openrc", "libcrypto3", "binutils-make", "empty", "openssl"} {
		found := false
		for _, c := range cases {
			found = found || c.name == name
		}
		if !found {
			t.Errorf("testdata/root_%s.txt missing", name)
		}
	}
	random := readRootRandom(t)
	if len(random) < 20 {
		t.Errorf("only %d random worlds", len(random))
	}
	for _, c := range append(cases, random...) {
		t.Run(c.name, c.check)
	}
}

// readRootRandom reads testdata/root_random_expected.txt: worlds drawn at
// random from v3.19 (plus edge cases), applied to the minirootfs.
func readRootRandom(t *testing.T) []rootCase {
	f, err := os.Open("testdata/root_random_expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rootCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		if len(parts) != 3 {
			t.Fatalf("bad line %q", sc.Text())
		}
		c := rootCase{name: "random/" + strings.ReplaceAll(parts[1], " ", "+"), root: "minirootfs", add: strings.Fields(parts[1])}
		for _, r := range strings.Fields(parts[0]) {
			c.repos = append(c.repos, "v3.19/"+r)
		}
		switch parts[2] {
		case "ERROR":
			c.wantErr = true
		case "":
		default:
			c.want = strings.Split(parts[2], ";")
		}
		out = append(out, c)
	}
	return out
}

func TestResolveOnRootEmptyAddKeepsRoot(t *testing.T) {
	root := loadRoot(t, "minirootfs")
	selected, changes, err := ResolveOnRoot([]Repository{repoByPath(t, "v3.19/main")}, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("changes %v, want none", changes)
	}
	var got, want []string
	for _, p := range selected {
		got = append(got, p.String())
	}
	for _, p := range root.Installed {
		want = append(want, p.String())
	}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("selected %v, want the installed %v", got, want)
	}
}

func names(pkgs []Package) string {
	var s []string
	for _, p := range pkgs {
		s = append(s, p.String())
	}
	return strings.Join(s, " ")
}

func changeString(cs []Change) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Package.String()+"<"+c.Old)
	}
	return strings.Join(s, " ")
}

func TestResolveOnRootInstalled(t *testing.T) {
	pkg := func(n, v string, deps ...string) Package {
		return Package{Name: n, Version: v, Checksum: "Q1" + n + v, Depends: deps}
	}
	repo := []Repository{{Name: "r", Packages: []Package{
		pkg("app", "1.0-r0", "lib"),
		pkg("app2", "1.0-r0", "lib>=2.0"),
		pkg("lib", "2.0-r0"),
		pkg("tool", "1.0-r0"),
	}}}
	for _, tc := range []struct {
		name              string
		root              Root
		add               []string
		selected, changes string
	}{
		{
			name:     "installed absent from every repository is kept",
			root:     Root{Installed: []Package{pkg("local", "0.1-r0", "lib"), pkg("lib", "2.0-r0")}, World: []string{"local"}},
			add:      []string{"tool"},
			selected: "lib-2.0-r0 local-0.1-r0 tool-1.0-r0",
			changes:  "tool-1.0-r0<",
		},
		{
			name:     "installed lower version is preferred over the repository's",
			root:     Root{Installed: []Package{pkg("lib", "1.0-r0")}, World: []string{"lib"}},
			add:      []string{"app"},
			selected: "app-1.0-r0 lib-1.0-r0",
			changes:  "app-1.0-r0<",
		},
		{
			name:     "a constraint upgrades the installed package",
			root:     Root{Installed: []Package{pkg("lib", "1.0-r0")}, World: []string{"lib"}},
			add:      []string{"app2"},
			selected: "app2-1.0-r0 lib-2.0-r0",
			changes:  "app2-1.0-r0< lib-2.0-r0<1.0-r0",
		},
		{
			name:     "an added atom replaces the world entry of its name",
			root:     Root{Installed: []Package{pkg("lib", "1.0-r0")}, World: []string{"lib<2"}},
			add:      []string{"lib>=2"},
			selected: "lib-2.0-r0",
			changes:  "lib-2.0-r0<1.0-r0",
		},
		{
			name:     "installed package nothing wants is removed",
			root:     Root{Installed: []Package{pkg("lib", "1.0-r0"), pkg("old", "1.0-r0")}, World: []string{"lib"}},
			selected: "lib-1.0-r0",
		},
		{
			name:     "empty add keeps the root as is",
			root:     Root{Installed: []Package{pkg("local", "0.1-r0", "lib"), pkg("lib", "1.0-r0")}, World: []string{"local"}},
			selected: "lib-1.0-r0 local-0.1-r0",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, ch, err := ResolveOnRoot(repo, tc.root, tc.add)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(sel); got != tc.selected {
				t.Errorf("selected %q, want %q", got, tc.selected)
			}
			if got := changeString(ch); got != tc.changes {
				t.Errorf("changes %q, want %q", got, tc.changes)
			}
		})
	}
}

func TestResolveOnRootErrors(t *testing.T) {
	repo := []Repository{{Name: "r", Packages: []Package{{Name: "a", Version: "1"}}}}
	root := Root{Installed: []Package{{Name: "a", Version: "1"}}, World: []string{"a"}}
	if _, _, err := ResolveOnRoot(repo, root, []string{"a>=2"}); err == nil {
		t.Error("a>=2: no error")
	}
	if _, _, err := ResolveOnRoot(repo, root, []string{"a@edge"}); err == nil {
		t.Error("a@edge: no error")
	}
	if _, _, err := ResolveOnRoot(repo, Root{World: []string{"a>="}}, nil); err == nil {
		t.Error("bad root world atom: no error")
	}
}

func TestReadRoot(t *testing.T) {
	db := "C:Q1x=\nP:musl\nV:1.2.4-r4\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:Q1y=\nM:0:0:755\n\n" +
		"P:busybox\nV:1.36.1-r19\nD:so:libc.musl-x86_64.so.1\nr:busybox-initscripts\nF:bin\nR:busybox\n"
	root, err := ReadRoot(strings.NewReader(db), strings.NewReader("busybox\nalpine-baselayout  apk-tools\n"))
	if err != nil {
		t.Fatal(err)
	}
	if names(root.Installed) != "musl-1.2.4-r4 busybox-1.36.1-r19" {
		t.Errorf("installed %q", names(root.Installed))
	}
	if strings.Join(root.World, " ") != "busybox alpine-baselayout apk-tools" {
		t.Errorf("world %q", root.World)
	}
	if r, err := ReadRoot(nil, nil); err != nil || len(r.Installed) != 0 || len(r.World) != 0 {
		t.Errorf("ReadRoot(nil, nil) = %+v, %v", r, err)
	}
	if _, err := ReadRoot(strings.NewReader("P:x\n"), nil); err == nil {
		t.Error("record without version: no error")
	}
}
