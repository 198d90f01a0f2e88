package gomod

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// fakeGraph is a small module graph with the cases Closure must get right:
//
//	root (go 1.21) imports a, b and c, and requires every module that
//	   provides a package to it (tidy), but c at an older version than a
//	   requires (not tidy there).
//	a (pruned) imports c and requires c v1.1.0 and z (z: a's tests only;
//	   never read, and the proxy does not even have it).
//	b (go 1.16: unpruned) imports d: everything below b is read.
//	d imports e and x/y; e requires x for its tests; x is a module whose
//	   path is a prefix of x/y, in the graph through b: when the go command
//	   resolves example.com/x/y from the graph rather than from the roots,
//	   it opens x's zip too, to rule out an ambiguous import
//	   (modload.importFromModules). The builds below happen to resolve it
//	   from the roots, so only TestClosure checks x's zip.
func fakeGraph() []fakeModule {
	mod := func(path, version, goVersion string, requires ...string) fakeModule {
		goMod := "module " + path + "\n\ngo " + goVersion + "\n"
		for _, r := range requires {
			goMod += "require " + r + "\n"
		}
		name := path[strings.LastIndex(path, "/")+1:]
		return fakeModule{path: path, version: version, goMod: goMod, files: map[string]string{}}.withPackage(name, "")
	}
	imp := func(m fakeModule, imports ...string) fakeModule {
		name := m.path[strings.LastIndex(m.path, "/")+1:]
		return m.withPackage(name, strings.Join(imports, "\n"))
	}
	return []fakeModule{
		imp(mod("example.com/root", "v1.0.0", "1.21",
			"example.com/a v1.0.0", "example.com/b v1.2.0", "example.com/c v1.0.0",
			"example.com/d v1.0.0", "example.com/e v1.0.0", "example.com/x/y v1.0.0"),
			"example.com/a", "example.com/b", "example.com/c"),
		imp(mod("example.com/a", "v1.0.0", "1.21", "example.com/c v1.1.0", "example.com/z v1.0.0"), "example.com/c"),
		imp(mod("example.com/b", "v1.2.0", "1.16", "example.com/d v1.0.0"), "example.com/d"),
		mod("example.com/c", "v1.0.0", "1.21"),
		mod("example.com/c", "v1.1.0", "1.21"),
		imp(mod("example.com/d", "v1.0.0", "1.21", "example.com/e v1.0.0", "example.com/x/y v1.0.0"), "example.com/e", "example.com/x/y"),
		mod("example.com/e", "v1.0.0", "1.21", "example.com/x v1.0.0"),
		mod("example.com/x", "v1.0.0", "1.21"),
		mod("example.com/x/y", "v1.0.0", "1.21"),
		// The same graph below a root without graph pruning.
		imp(mod("example.com/old", "v1.0.0", "1.16", "example.com/b v1.2.0"), "example.com/b"),
	}
}

// withPackage gives a module one package, importing imports.
func (f fakeModule) withPackage(name, imports string) fakeModule {
	src := "package " + name + "\n\n"
	var uses []string
	for _, imp := range strings.Fields(imports) {
		src += "import " + `"` + imp + `"` + "\n"
		uses = append(uses, imp[strings.LastIndex(imp, "/")+1:]+".Name")
	}
	src += "\nconst Name = \"" + name + "\"\n\nfunc All() []string { return []string{Name"
	for _, u := range uses {
		src += ", " + u
	}
	src += "} }\n"
	f.files = map[string]string{name + ".go": src}
	return f
}

func TestClosure(t *testing.T) {
	w := newFakeWorld(t, fakeGraph()...)
	for _, tc := range []struct {
		root string
		want []string // path@version, with "+zip" when the zip is needed
	}{
		{"example.com/root@v1.0.0", []string{
			"example.com/a@v1.0.0+zip",
			"example.com/b@v1.2.0+zip",
			"example.com/c@v1.0.0",     // read before the roots move up
			"example.com/c@v1.1.0+zip", // selected over root's v1.0.0
			"example.com/d@v1.0.0+zip",
			"example.com/e@v1.0.0+zip",
			"example.com/root@v1.0.0+zip",
			"example.com/x@v1.0.0+zip", // a path prefix of x/y
			"example.com/x/y@v1.0.0+zip",
		}},
		{"example.com/old@v1.0.0", []string{
			// No pruning: the whole build list, with zips.
			"example.com/b@v1.2.0+zip",
			"example.com/d@v1.0.0+zip",
			"example.com/e@v1.0.0+zip",
			"example.com/old@v1.0.0+zip",
			"example.com/x@v1.0.0+zip",
			"example.com/x/y@v1.0.0+zip",
		}},
	} {
		t.Run(tc.root, func(t *testing.T) {
			c := w.client()
			path, version, _ := strings.Cut(tc.root, "@")
			mods, err := c.Closure(context.Background(), Module{Path: path, Version: version})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range mods {
				s := m.String()
				if m.Sum != "" {
					s += "+zip"
				}
				got = append(got, s)
				want := w.module(m.String())
				if m.GoModSum != want.GoModSum || (m.Sum != "" && m.Sum != want.Sum) {
					t.Errorf("%s: sums %+v, want %+v", m, m, want)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Closure(%s) =\n\t%s\nwant\n\t%s", tc.root, strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}

func TestAtLeastGo117(t *testing.T) {
	for v, want := range map[string]bool{
		"1.16": false, "1.16.5": false, "1.17": true, "1.17rc1": true, "1.21.0": true,
		"1.9": false, "1.100": true, "2.0": true, "": false, "x": false,
	} {
		if got := atLeastGo117(v); got != want {
			t.Errorf("atLeastGo117(%q) = %v", v, got)
		}
	}
}

// offlineProxy downloads mods and unpacks their proxy tar into a new
// directory, for GOPROXY=file://DIR; it checks the tar is reproducible.
func offlineProxy(t *testing.T, c *Client, mods []Module) string {
	t.Helper()
	ctx := context.Background()
	files := map[string]Files{}
	start := time.Now()
	var size int64
	for _, m := range mods {
		f, err := c.Download(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		files[m.String()] = f
		if f.Zip != "" {
			fi, _ := os.Stat(f.Zip)
			size += fi.Size()
		}
	}
	t.Logf("Download of %d modules (zips %.1f MB): %s", len(mods), float64(size)/1e6, time.Since(start).Round(time.Millisecond))
	var first, second bytes.Buffer
	start = time.Now()
	if err := WriteProxyTar(&first, mods, files, "goproxy", testEpoch); err != nil {
		t.Fatal(err)
	}
	t.Logf("WriteProxyTar: %.1f MB in %s", float64(first.Len())/1e6, time.Since(start).Round(time.Millisecond))
	// Another order of the same modules gives the same bytes.
	rev := slices.Clone(mods)
	slices.Reverse(rev)
	if err := WriteProxyTar(&second, rev, files, "goproxy", testEpoch); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatal("two runs wrote different proxy tars")
	}
	dir := t.TempDir()
	entries, _ := readTar(t, &first, dir)
	checkReproducibleHeaders(t, entries)
	return filepath.Join(dir, "goproxy")
}

// hostGo is the go command building against the offline proxy: no
// network (GOPROXY only file://), a fresh module cache, checking what it
// reads against go.sum; the build cache is kept between runs for speed.
func hostGo(t *testing.T, proxyDir string) (string, []string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skip(err)
	}
	return goBin, goEnv(t, "GOPROXY=file://"+proxyDir, "GOCACHE="+filepath.Join(cache, "lkpkg-test", "gocache"))
}

// buildAgainst builds a main module that requires root and imports pkg,
// with the go.sum lines of the closure; afterwards go.sum must not have
// gained any line: the closure had every hash the go command wanted.
func buildAgainst(t *testing.T, proxyDir string, root Module, mods []Module, pkg string) {
	t.Helper()
	goBin, env := hostGo(t, proxyDir)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "go.mod"), "module example.net/main\n\ngo 1.26\n\nrequire "+root.Path+" "+root.Version+"\n")
	writeFile(t, filepath.Join(src, "main.go"), "package main\n\nimport _ \""+pkg+"\"\n\nfunc main() { println(\"ok\") }\n")
	sum := GoSum(mods)
	writeFile(t, filepath.Join(src, "go.sum"), string(sum))
	start := time.Now()
	runGo(t, goBin, src, env, "build", "-o", "main", ".")
	t.Logf("go build of a main module importing %s: %s", pkg, time.Since(start).Round(time.Millisecond))
	after, err := os.ReadFile(filepath.Join(src, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.SplitAfter(string(after), "\n") {
		if line != "" && !bytes.Contains(sum, []byte(line)) {
			t.Errorf("go build wanted a hash the closure does not have: %s", line)
		}
	}
}

// buildRoot unpacks root's zip and builds patterns inside it, as the main
// module.
func buildRoot(t *testing.T, c *Client, proxyDir string, root Module, mods []Module, flags string, patterns ...string) {
	t.Helper()
	goBin, env := hostGo(t, proxyDir)
	f, err := c.Download(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	if err := modzip.Unzip(src, module.Version{Path: root.Path, Version: root.Version}, f.Zip); err != nil {
		t.Fatal(err)
	}
	// Unzip leaves files read-only; go.mod may need an update.
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chmod(p, 0o644)
		}
		return nil
	})
	// A root without go.sum gets the closure's lines (else the real one).
	if _, err := os.Stat(filepath.Join(src, "go.sum")); os.IsNotExist(err) {
		writeFile(t, filepath.Join(src, "go.sum"), string(GoSum(mods)))
	}
	start := time.Now()
	runGo(t, goBin, src, append(env, "GOFLAGS="+flags+" -modcacherw"), append([]string{"build"}, patterns...)...)
	t.Logf("go build %s in %s: %s", strings.Join(patterns, " "), root, time.Since(start).Round(time.Millisecond))
}

func TestClosureBuildsOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command (skipped with -short)")
	}
	w := newFakeWorld(t, fakeGraph()...)
	c := w.client()
	type mirrored struct {
		root Module
		mods []Module
		dir  string
	}
	var all []mirrored
	for _, root := range []string{"example.com/root", "example.com/old"} {
		mods, err := c.Closure(context.Background(), Module{Path: root, Version: "v1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		rootMod := mods[slices.IndexFunc(mods, func(m Module) bool { return m.Path == root })]
		all = append(all, mirrored{rootMod, mods, offlineProxy(t, c, mods)})
	}
	w.srv.Close() // from here on, only the proxy trees
	for _, m := range all {
		t.Run(m.root.Path, func(t *testing.T) {
			buildAgainst(t, m.dir, m.root, m.mods, m.root.Path)
			// root's go.mod is not tidy (c), so as the main module it
			// builds only where go.mod may be updated.
			buildRoot(t, c, m.dir, m.root, m.mods, "-mod=mod", "./...")
		})
	}
}

// TestRealClosure mirrors real modules and builds them from the proxy
// tree alone.
func TestRealClosure(t *testing.T) {
	c := realClient(t)
	for _, tc := range []struct {
		root, version string
		pkg           string   // imported by a main module requiring root
		build         []string // built in root's own tree, -mod=readonly
	}{
		// go 1.15: no graph pruning, the whole build list.
		{"github.com/spf13/cobra", "v1.10.2", "github.com/spf13/cobra", []string{"./..."}},
		// go 1.25, 37 requirements, among them cobra (unpruned).
		{"github.com/google/go-containerregistry", "v0.22.1", "github.com/google/go-containerregistry/cmd/crane/cmd", []string{"./cmd/crane"}},
	} {
		t.Run(tc.root, func(t *testing.T) {
			ctx := context.Background()
			start := time.Now()
			root, err := c.Lookup(ctx, tc.root, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			mods, err := c.Closure(ctx, root)
			if err != nil {
				t.Fatal(err)
			}
			zips := 0
			for _, m := range mods {
				if m.Sum != "" {
					zips++
				}
			}
			t.Logf("Closure: %d modules, %d with zips, in %s", len(mods), zips, time.Since(start).Round(time.Millisecond))
			dir := offlineProxy(t, c, mods)
			buildAgainst(t, dir, root, mods, tc.pkg)
			buildRoot(t, c, dir, root, mods, "-mod=readonly", tc.build...)
		})
	}
}
