package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// cacheSnapshot is what a failed command must leave untouched.
type cacheSnapshot struct {
	index []byte
	blobs []string
}

func snapshotCache(t *testing.T, dir string) cacheSnapshot {
	t.Helper()
	idx, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatalf("cache index: %v", err)
	}
	var blobs []string
	err = filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			blobs = append(blobs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cacheSnapshot{idx, blobs}
}

type badInput struct {
	name  string
	setup func(t *testing.T, dir string) []string // returns lkpkg args
	want  func(dir string) []string               // substrings of stderr
	quick time.Duration                           // if set, must fail within this
}

// badInputCases are the inputs TestBadInputs feeds lkpkg, none of which
// may need a buildkitd.
func badInputCases() []badInput {
	okPkg := func(t *testing.T, dir string) string {
		return writePkg(t, filepath.Join(dir, "ok"), pkgSpec{image: "ok", files: map[string]string{"f": "f\n"}})
	}
	// badBuildYML is a package in dir/sub with build.yml yml; the error must
	// name build.yml with the position suffix at, then each of want.
	badBuildYML := func(name, sub, yml, at string, want ...string) badInput {
		return badInput{
			name: name,
			setup: func(t *testing.T, dir string) []string {
				return []string{"pkg", "build", writeFiles(t, filepath.Join(dir, sub), map[string]string{
					"build.yml":  yml,
					"Dockerfile": "FROM scratch\n",
				})}
			},
			want: func(dir string) []string {
				return append([]string{filepath.Join(dir, sub, "build.yml") + at}, want...)
			},
		}
	}
	return []badInput{
		{
			name: "missing Dockerfile",
			setup: func(t *testing.T, dir string) []string {
				return []string{"pkg", "build", writeFiles(t, filepath.Join(dir, "nodf"), map[string]string{"build.yml": "image: nodf\narches: [amd64]\n"})}
			},
			want: func(dir string) []string {
				return []string{filepath.Join(dir, "nodf", "Dockerfile"), "no such file"}
			},
		},
		badBuildYML("malformed YAML", "yaml", "image: yaml\norg: lktest\narches: [amd64]\nbuildArgs: A: b\n",
			":4:", "mapping values are not allowed"),
		badBuildYML("unknown field", "unk", "image: unk\narches: [amd64]\nbogus-field: 1\n",
			":3", "bogus-field"),
		badBuildYML("unknown arch", "arch", "image: arch\narches:\n  - amd64\n  - sparc\n",
			":4: arches[1]: ", `"sparc"`),
		{
			name: "unreachable builder",
			setup: func(t *testing.T, dir string) []string {
				return []string{"pkg", "build", "--progress", "plain", "--builder", "tcp://127.0.0.1:1", okPkg(t, dir)}
			},
			want: func(dir string) []string {
				return []string{"tcp://127.0.0.1:1", filepath.Join(dir, "ok"), "1 package(s) failed"}
			},
			quick: 15 * time.Second,
		},
		{
			name: "FROM an image not in the cache",
			setup: func(t *testing.T, dir string) []string {
				return []string{"pkg", "build", writePkg(t, filepath.Join(dir, "from"), pkgSpec{image: "from", df: "FROM alpine:3.19\nRUN true\n"})}
			},
			want: func(dir string) []string {
				return []string{filepath.Join(dir, "from", "Dockerfile"), "alpine:3.19", "never pull"}
			},
		},
		{
			name: "nonexistent package dir",
			setup: func(t *testing.T, dir string) []string {
				return []string{"pkg", "build", filepath.Join(dir, "does-not-exist")}
			},
			want: func(dir string) []string {
				return []string{filepath.Join(dir, "does-not-exist"), "no such file"}
			},
		},
		{
			name: "dependency that does not exist",
			setup: func(t *testing.T, dir string) []string {
				return []string{"pkg", "build", writePkg(t, filepath.Join(dir, "dep"), pkgSpec{image: "dep", dep: "../missing"})}
			},
			want: func(dir string) []string {
				return []string{filepath.Join(dir, "dep", "build.yml"), "BASE", filepath.Join(dir, "missing")}
			},
		},
		{
			name: "tree without packages",
			setup: func(t *testing.T, dir string) []string {
				return []string{"pkg", "build", writeFiles(t, filepath.Join(dir, "empty"), map[string]string{"README": "x\n"}) + "/..."}
			},
			want: func(dir string) []string {
				return []string{filepath.Join(dir, "empty") + "/...", "no packages"}
			},
		},
		{
			name: "platform not among the arches",
			setup: func(t *testing.T, dir string) []string {
				return []string{"pkg", "build", "--platforms", "linux/riscv64", okPkg(t, dir)}
			},
			want: func(dir string) []string {
				return []string{filepath.Join(dir, "ok"), "linux/riscv64", "amd64"}
			},
		},
	}
}

func TestBadInputs(t *testing.T) {
	testenv.Integration(t)
	for _, c := range badInputCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// No buildkitd available: none of these may need one.
			l := newLKNoBuilder(t)
			l.ok("cache", "ls") // creates the cache
			before := snapshotCache(t, l.cache)
			dir := t.TempDir()
			args := c.setup(t, dir)
			r := l.run(args...)
			t.Logf("%s", r)
			if r.code == 0 {
				t.Fatalf("expected failure:\n%s", r)
			}
			for _, w := range c.want(dir) {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, r.stderr)
				}
			}
			if !strings.Contains(r.stderr, "lkpkg: ") {
				t.Errorf("stderr has no \"lkpkg: \" error line:\n%s", r.stderr)
			}
			if strings.Contains(r.stdout, " built for ") {
				t.Errorf("stdout reports a build:\n%s", r.stdout)
			}
			if c.quick > 0 && r.dur > c.quick {
				t.Errorf("took %v, want < %v", r.dur, c.quick)
			}
			after := snapshotCache(t, l.cache)
			if !bytes.Equal(before.index, after.index) {
				t.Errorf("index.json changed:\nbefore: %s\nafter: %s", before.index, after.index)
			}
			if strings.Join(before.blobs, "\n") != strings.Join(after.blobs, "\n") {
				t.Errorf("blobs changed:\nbefore: %v\nafter: %v", before.blobs, after.blobs)
			}
		})
	}
}

func TestHelpVersionCompletion(t *testing.T) {
	testenv.Integration(t)
	l := newLKNoBuilder(t)

	root := l.ok("--help").stdout
	for _, w := range []string{"pkg", "cache", "builder", "version", "--cache", "--builder-state"} {
		if !strings.Contains(root, w) {
			t.Errorf("lkpkg --help does not mention %q:\n%s", w, root)
		}
	}
	build := l.ok("pkg", "build", "--help").stdout
	for _, w := range []string{"--builder", "--platforms", "--force", "--verify-reproducible", "--progress", "--no-cache", "--jobs", "--cache"} {
		if !strings.Contains(build, w) {
			t.Errorf("lkpkg pkg build --help does not mention %q:\n%s", w, build)
		}
	}
	v := l.ok("version").stdout
	if !regexp.MustCompile(`^lkpkg \S+ \(\S+\)\n$`).MatchString(v) {
		t.Errorf("lkpkg version printed %q", v)
	}
	comp := l.ok("completion", "bash").stdout
	if !strings.Contains(comp, "bash completion") || !strings.Contains(comp, "__lkpkg") {
		t.Errorf("lkpkg completion bash does not look like a bash completion script:\n%.300s", comp)
	}
	r := l.run("no-such-command")
	if r.code == 0 || !strings.Contains(r.stderr, "no-such-command") {
		t.Errorf("unknown command:\n%s", r)
	}
}

var refLineRE = regexp.MustCompile(`^lktest/[a-z0-9-]+:[0-9a-f]{40}$`)

func showTags(t *testing.T, l *lk, dirs ...string) []string {
	t.Helper()
	r := l.ok(append([]string{"pkg", "show-tag"}, dirs...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(dirs) {
		t.Fatalf("show-tag of %d packages printed %d lines:\n%s", len(dirs), len(lines), r)
	}
	for _, line := range lines {
		if !refLineRE.MatchString(line) {
			t.Fatalf("show-tag printed %q, want org/image:<40 hex>", line)
		}
	}
	return lines
}

func TestShowTag(t *testing.T) {
	testenv.Integration(t)
	l := newLKNoBuilder(t) // show-tag needs no builder
	tree := t.TempDir()
	sharedTree(t, tree)
	alpine := alpinePkg(t, filepath.Join(tree, "alpine"))
	dirs := []string{filepath.Join(tree, "a"), filepath.Join(tree, "b"), filepath.Join(tree, "c"), filepath.Join(tree, "d"), alpine}

	first := showTags(t, l, dirs...)
	second := showTags(t, l, dirs...)
	if strings.Join(first, "\n") != strings.Join(second, "\n") {
		t.Errorf("show-tag is not stable:\n%v\n%v", first, second)
	}

	// The same packages somewhere else have the same tags.
	other := filepath.Join(t.TempDir(), "elsewhere", "tree")
	if err := os.CopyFS(other, os.DirFS(tree)); err != nil {
		t.Fatal(err)
	}
	var otherDirs []string
	for _, d := range dirs {
		rel, _ := filepath.Rel(tree, d)
		otherDirs = append(otherDirs, filepath.Join(other, rel))
	}
	copied := showTags(t, l, otherDirs...)
	if strings.Join(first, "\n") != strings.Join(copied, "\n") {
		t.Errorf("show-tag differs for a copy of the packages:\n%v\n%v", first, copied)
	}

	// A changed input changes the package's tag and its dependents' tags,
	// and nothing else.
	if err := os.WriteFile(filepath.Join(other, "a", "a.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := showTags(t, l, otherDirs...)
	byRepo := map[string]string{}
	for _, ref := range first {
		byRepo[repoOf(ref)] = ref
	}
	for _, ref := range changed {
		repo := repoOf(ref)
		// shared-b and the Alpine package do not depend on shared-a.
		wantSame := repo == "lktest/shared-b" || repo == "lktest/alpine-fixture"
		if same := byRepo[repo] == ref; same != wantSame {
			t.Errorf("%s after changing shared-a (was %s); want unchanged=%v", ref, byRepo[repo], wantSame)
		}
	}

	if _, err := os.Stat(l.builderDir); err == nil {
		t.Errorf("show-tag created the builder state dir %s", l.builderDir)
	}
}

// TestAlpineFixtureBuild builds the real Alpine minirootfs (an extra
// source outside the package) with a RUN step, and checks the result.
func TestAlpineFixtureBuild(t *testing.T) {
	testenv.Integration(t)
	l := newLK(t)
	dir := alpinePkg(t, filepath.Join(t.TempDir(), "alpine"))
	tag := strings.TrimSpace(l.ok("pkg", "show-tag", dir).stdout)
	r := l.ok("pkg", "build", "--progress", "plain", dir)
	lines := parseBuild(t, r)
	if bl, ok := lines[tag]; !ok || bl.upToDate {
		t.Fatalf("build did not build %s:\n%s", tag, r)
	}
	l.verifyCache()
	e, ok := l.cacheLs()[tag+"-amd64"]
	if !ok {
		t.Fatalf("no %s-amd64 in the cache", tag)
	}
	if got, ok := fileInImage(t, l.cache, e.digest, "ok"); !ok || got != "ok\n" {
		t.Errorf("/ok in the image is %q (found %v), want \"ok\\n\"", got, ok)
	}
	if got, ok := fileInImage(t, l.cache, e.digest, "etc/alpine-release"); !ok || strings.TrimSpace(got) != "3.19.4" {
		t.Errorf("/etc/alpine-release in the image is %q (found %v), want 3.19.4", got, ok)
	}
	out := filepath.Join(t.TempDir(), "alpine.tar")
	l.ok("cache", "export", "--format", "docker", "--platform", "linux/amd64", "-o", out, tag)
}

// TestCacheLsSingleManifest: an imported single manifest recorded without
// a platform (as buildkit's OCI output has it) is no index, and `cache ls`
// must not say it is; its config names no platform either.
func TestCacheLsSingleManifest(t *testing.T) {
	testenv.Integration(t)
	l := newLKNoBuilder(t)
	tar := filepath.Join(t.TempDir(), "image.tar")
	writeLayoutTar(t, tar, layoutOpts{ref: "lkpkg/single:1"})
	l.ok("cache", "import", tar)
	e, ok := l.cacheLs()["lkpkg/single:1"]
	if !ok {
		t.Fatal("cache ls does not list lkpkg/single:1")
	}
	if e.platform != "unknown" {
		t.Errorf("cache ls PLATFORM of a single manifest without one = %q, want unknown", e.platform)
	}
}
