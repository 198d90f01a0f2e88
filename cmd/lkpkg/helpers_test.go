package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// The tests of this package run the real lkpkg binary. Most of them share
// one embedded buildkitd (state in a short temp dir, created on first use)
// which TestMain stops at the end.
var (
	sharedMu         sync.Mutex
	sharedBuilderDir string // "" until a test needs a builder
	sharedLkpkg      string // lkpkg binary, known once a test asked for it
	sharedBuildkitd  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	sharedMu.Lock()
	dir, bin, bk := sharedBuilderDir, sharedLkpkg, sharedBuildkitd
	sharedMu.Unlock()
	if dir != "" && bin != "" {
		if err := stopBuilder(bin, dir, bk); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the shared buildkitd (%s): %v\n", dir, err)
			if code == 0 {
				code = 1
			}
		}
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func stopBuilder(bin, dir, buildkitd string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "builder", "stop")
	cmd.Env = baseEnv("LKPKG_BUILDER_DIR="+dir, "LKPKG_BUILDKITD="+buildkitd, "LKPKG_CACHE="+filepath.Join(dir, "unused-cache"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}

// baseEnv is the test process's environment without anything that would
// point lkpkg at another builder or cache, plus extra.
func baseEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "BUILDKIT_HOST", "LKPKG_CACHE", "LKPKG_BUILDER_DIR", "LKPKG_BUILDKITD", "XDG_CACHE_HOME":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// lk runs lkpkg against one cache and one builder state dir.
type lk struct {
	t          testing.TB
	bin        string
	cache      string
	builderDir string
	buildkitd  string
	extraEnv   []string
}

// newLK returns an lkpkg runner with a fresh cache, using the shared
// builder of the package (started by lkpkg on first use).
func newLK(t testing.TB) *lk {
	t.Helper()
	bin := testenv.LkpkgBinary(t)
	bk := testenv.BuildkitdBinary(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	sharedLkpkg, sharedBuildkitd = bin, bk
	if sharedBuilderDir == "" {
		dir, err := os.MkdirTemp("", "lkt")
		if err != nil {
			t.Fatal(err)
		}
		sharedBuilderDir = dir
	}
	return &lk{t: t, bin: bin, cache: t.TempDir(), builderDir: sharedBuilderDir, buildkitd: bk}
}

// newLKPrivateBuilder is newLK with a builder state dir of its own, whose
// buildkitd (if any was started) is stopped when the test ends.
func newLKPrivateBuilder(t testing.TB) *lk {
	t.Helper()
	l := newLK(t)
	dir, err := os.MkdirTemp("", "lkt")
	if err != nil {
		t.Fatal(err)
	}
	l.builderDir = dir
	t.Cleanup(func() {
		if err := stopBuilder(l.bin, dir, l.buildkitd); err != nil {
			t.Errorf("lkpkg builder stop (%s): %v", dir, err)
		}
		os.RemoveAll(dir)
	})
	return l
}

// newLKNoBuilder is an lkpkg runner that cannot start a builder: any
// attempt fails, so commands that must not need one prove it.
func newLKNoBuilder(t testing.TB) *lk {
	t.Helper()
	return &lk{t: t, bin: testenv.LkpkgBinary(t), cache: t.TempDir(), builderDir: filepath.Join(t.TempDir(), "b"), buildkitd: "/nonexistent/buildkitd"}
}

func (l *lk) env() []string {
	return baseEnv(append([]string{
		"LKPKG_CACHE=" + l.cache,
		"LKPKG_BUILDER_DIR=" + l.builderDir,
		"LKPKG_BUILDKITD=" + l.buildkitd,
	}, l.extraEnv...)...)
}

type result struct {
	args           []string
	stdout, stderr string
	err            error
	code           int
	dur            time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("lkpkg %s: exit %d after %v (%v)\n--- stdout:\n%s\n--- stderr:\n%s", strings.Join(r.args, " "), r.code, r.dur.Round(time.Millisecond), r.err, r.stdout, r.stderr)
}

func (l *lk) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, l.bin, args...)
	cmd.Env = l.env()
	return cmd
}

// run runs lkpkg and returns what happened, whatever the exit code.
func (l *lk) run(args ...string) result {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := l.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{args: args, stdout: out.String(), stderr: errb.String(), err: err, dur: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		l.t.Fatalf("running lkpkg %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ok runs lkpkg and fails the test unless it exits 0.
func (l *lk) ok(args ...string) result {
	l.t.Helper()
	r := l.run(args...)
	if r.code != 0 || r.err != nil {
		l.t.Fatalf("expected success:\n%s", r)
	}
	return r
}

// cacheEntry is one line of `lkpkg cache ls`.
type cacheEntry struct{ ref, digest, platform string }

func (l *lk) cacheLs() map[string]cacheEntry {
	l.t.Helper()
	r := l.ok("cache", "ls")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "REFERENCE") {
		l.t.Fatalf("cache ls: no header:\n%s", r)
	}
	out := map[string]cacheEntry{}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 3 {
			l.t.Fatalf("cache ls: bad line %q:\n%s", line, r)
		}
		out[f[0]] = cacheEntry{f[0], f[1], f[2]}
	}
	return out
}

func (l *lk) verifyCache() {
	l.t.Helper()
	r := l.ok("cache", "verify")
	if strings.TrimSpace(r.stdout) != "ok" {
		l.t.Fatalf("cache verify did not say ok:\n%s", r)
	}
}

// buildLine is one "REF DIGEST built for ...|up to date" line of pkg build.
type buildLine struct {
	ref, digest string
	upToDate    bool
}

var buildLineRE = regexp.MustCompile(`^(\S+) (sha256:[0-9a-f]{64}) (up to date|built for (\S+))$`)

func parseBuild(t testing.TB, r result) map[string]buildLine {
	t.Helper()
	out := map[string]buildLine{}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		m := buildLineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unexpected pkg build output line %q:\n%s", line, r)
		}
		if _, dup := out[m[1]]; dup {
			t.Fatalf("pkg build reported %s twice:\n%s", m[1], r)
		}
		out[m[1]] = buildLine{ref: m[1], digest: m[2], upToDate: m[3] == "up to date"}
	}
	return out
}

// pkgSpec describes a small fixture package.
type pkgSpec struct {
	image  string
	org    string   // default "lktest"
	arches []string // default amd64
	dep    string   // relative dir of a tree package to build FROM (via BASE)
	files  map[string]string
	extra  string // extra build.yml lines
	df     string // Dockerfile; default FROM scratch/${BASE} + COPY of every file
}

// writePkg writes a package into dir and returns dir.
func writePkg(t testing.TB, dir string, s pkgSpec) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	org := s.org
	if org == "" {
		org = "lktest"
	}
	arches := s.arches
	if len(arches) == 0 {
		arches = []string{"amd64"}
	}
	var y strings.Builder
	fmt.Fprintf(&y, "image: %s\norg: %s\narches:\n", s.image, org)
	for _, a := range arches {
		fmt.Fprintf(&y, "  - %s\n", a)
	}
	if s.dep != "" {
		fmt.Fprintf(&y, "buildArgs:\n  - BASE=@lkt:pkg:%s\n", s.dep)
	}
	y.WriteString(s.extra)
	files := map[string]string{"build.yml": y.String()}
	df := s.df
	if df == "" {
		var d strings.Builder
		if s.dep != "" {
			d.WriteString("ARG BASE\nFROM ${BASE}\n")
		} else {
			d.WriteString("FROM scratch\n")
		}
		for _, name := range sortedNames(s.files) {
			fmt.Fprintf(&d, "COPY %s /%s/%s\n", name, s.image, name)
		}
		df = d.String()
	}
	files["Dockerfile"] = df
	for k, v := range s.files {
		files[k] = v
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sortedNames(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sharedTree writes four scratch packages into root (c depends on a, d on
// c) and returns their image names.
func sharedTree(t testing.TB, root string, arches ...string) []string {
	t.Helper()
	writePkg(t, filepath.Join(root, "a"), pkgSpec{image: "shared-a", arches: arches, files: map[string]string{"a.txt": "package a\n"}})
	writePkg(t, filepath.Join(root, "b"), pkgSpec{image: "shared-b", arches: arches, files: map[string]string{"b.txt": "package b\n", "etc/b.conf": "x=1\n"}})
	writePkg(t, filepath.Join(root, "c"), pkgSpec{image: "shared-c", arches: arches, dep: "../a", files: map[string]string{"c.txt": "package c\n"}})
	writePkg(t, filepath.Join(root, "d"), pkgSpec{image: "shared-d", arches: arches, dep: "../c", files: map[string]string{"d.txt": "package d\n"}})
	return []string{"shared-a", "shared-b", "shared-c", "shared-d"}
}

// randomData is n deterministic, incompressible bytes.
func randomData(seed int64, n int) string {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return string(b)
}

// alpinePkg writes the Alpine minirootfs fixture (amd64 only, one RUN).
func alpinePkg(t testing.TB, dir string) string {
	t.Helper()
	src := filepath.Join(testenv.AlpineDir(t), "minirootfs")
	return writePkg(t, dir, pkgSpec{
		image: "alpine-fixture",
		extra: fmt.Sprintf("extra-sources:\n  - %s:minirootfs\n", src),
		df:    "FROM scratch\nADD minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz /\nRUN echo ok > /ok\n",
	})
}

// repoOf strips the tag from a reference.
func repoOf(ref string) string {
	i := strings.LastIndex(ref, ":")
	if i < 0 {
		return ref
	}
	return ref[:i]
}

// writeFiles writes files (name → content) into dir, creating it, and
// returns dir.
func writeFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range files {
		writeFile(t, filepath.Join(dir, k), v)
	}
	return dir
}

// writeFile writes content to path, creating its parent folders.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
