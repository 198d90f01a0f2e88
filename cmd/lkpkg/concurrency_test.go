package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// TestConcurrentBuilds runs 8 lkpkg processes at once on one cache and one
// (not yet started) builder: they must agree on a single buildkitd, all
// succeed, and leave a consistent cache.
func TestConcurrentBuilds(t *testing.T) {
	testenv.Integration(t)
	l := newLKPrivateBuilder(t)
	root := t.TempDir()
	shared := filepath.Join(root, "shared")
	sharedTree(t, shared, "amd64", "arm64")
	const procs = 8
	for i := 0; i < procs; i++ {
		u := filepath.Join(root, fmt.Sprintf("u%d", i))
		writePkg(t, filepath.Join(u, "x"), pkgSpec{image: fmt.Sprintf("uniq%d-x", i), dep: "../../shared/d",
			files: map[string]string{"x.txt": fmt.Sprintf("x of process %d\n", i)}})
		writePkg(t, filepath.Join(u, "y"), pkgSpec{image: fmt.Sprintf("uniq%d-y", i), arches: []string{"amd64", "arm64"},
			files: map[string]string{"y.txt": fmt.Sprintf("y of process %d\n", i)}})
	}

	results := make([]result, procs)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < procs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = l.run("pkg", "build", "--progress", "plain", shared+"/...", filepath.Join(root, fmt.Sprintf("u%d", i))+"/...")
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d concurrent builds took %v", procs, time.Since(t0).Round(time.Millisecond))

	digests := map[string]string{} // ref -> digest, across processes
	starts := 0
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("process %d failed:\n%s", i, r)
		}
		starts += strings.Count(r.stderr, "starting local buildkitd")
		lines := parseBuild(t, r)
		if len(lines) != 6 {
			t.Errorf("process %d reported %d packages, want 6:\n%s", i, len(lines), r.stdout)
		}
		for ref, bl := range lines {
			if d, ok := digests[ref]; ok && d != bl.digest {
				t.Errorf("%s: process %d got digest %s, another process %s", ref, i, bl.digest, d)
			}
			digests[ref] = bl.digest
		}
	}
	if starts != 1 {
		t.Errorf("%d processes started a buildkitd, want exactly 1", starts)
	}
	// Every package has different contents: no two may share an image.
	byDigest := map[string]string{}
	for ref, d := range digests {
		if other, dup := byDigest[d]; dup {
			t.Errorf("%s and %s have the same digest %s although their contents differ", ref, other, d)
		}
		byDigest[d] = ref
	}
	if len(digests) != 4+2*procs {
		t.Errorf("%d distinct refs built, want %d", len(digests), 4+2*procs)
	}

	l.verifyCache()
	ls := l.cacheLs()
	for ref, d := range digests {
		e, ok := ls[ref]
		if !ok {
			t.Errorf("cache ls does not list %s", ref)
			continue
		}
		if e.digest != d || e.platform != "index" {
			t.Errorf("cache ls: %s is %s (%s), build said %s", ref, e.digest, e.platform, d)
		}
		arches := []string{"amd64"}
		if strings.Contains(ref, "shared-") || strings.Contains(ref, "-y:") {
			arches = append(arches, "arm64")
		}
		for _, a := range arches {
			if e, ok := ls[ref+"-"+a]; !ok || e.platform != "linux/"+a {
				t.Errorf("cache ls: %s-%s missing or wrong (%+v)", ref, a, e)
			}
		}
	}
	if want := len(digests) + 4*2 + procs*(1+2); len(ls) != want {
		t.Errorf("cache ls lists %d entries, want %d", len(ls), want)
	}
}

// TestKillMidWrite SIGKILLs builds at several points: the cache must stay
// valid and every listed image exportable.
func TestKillMidWrite(t *testing.T) {
	testenv.Integration(t)
	l := newLK(t)
	root := t.TempDir()
	var dirs []string
	for i := 0; i < 5; i++ {
		dirs = append(dirs, writePkg(t, filepath.Join(root, fmt.Sprintf("big%d", i)), pkgSpec{
			image:  fmt.Sprintf("big%d", i),
			arches: []string{"amd64", "arm64"},
			files: map[string]string{
				"blob.bin":  randomData(int64(i), 6<<20),
				"small.txt": fmt.Sprintf("%d\n", i),
			},
		}))
	}
	l.ok("builder", "start") // keep the daemon start out of the timings
	exportDir := t.TempDir()
	for _, delay := range []time.Duration{300 * time.Millisecond, 800 * time.Millisecond, 1200 * time.Millisecond, 1500 * time.Millisecond, 1900 * time.Millisecond, 2500 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := l.command(ctx, append([]string{"pkg", "build", "--force", "--progress", "plain"}, dirs...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		killErr := cmd.Process.Signal(syscall.SIGKILL)
		waitErr := cmd.Wait()
		cancel()
		t.Logf("killed after %v (%v, %v); %d packages reported built:\n%s", delay, killErr, waitErr, strings.Count(out.String(), " built for "), out.String())

		l.verifyCache()
		ls := l.cacheLs()
		refs := make([]string, 0, len(ls))
		for ref := range ls {
			refs = append(refs, ref)
		}
		sort.Strings(refs)
		for i, ref := range refs {
			f := filepath.Join(exportDir, fmt.Sprintf("%d-%d.tar", delay.Milliseconds(), i))
			l.ok("cache", "export", "-o", f, ref)
			if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
				t.Errorf("export of %s: %v", ref, err)
			}
			os.Remove(f)
		}
	}
	r := l.ok(append([]string{"pkg", "build", "--progress", "plain"}, dirs...)...)
	if got := len(parseBuild(t, r)); got != len(dirs) {
		t.Errorf("final build reported %d packages, want %d:\n%s", got, len(dirs), r)
	}
	l.verifyCache()
	ls := l.cacheLs()
	if len(ls) != len(dirs)*3 {
		t.Errorf("cache ls lists %d entries, want %d", len(ls), len(dirs)*3)
	}
}

// TestRebuildIsNoop: building an up-to-date tree builds nothing, changes
// nothing and does not even need a builder.
func TestRebuildIsNoop(t *testing.T) {
	testenv.Integration(t)
	l := newLK(t)
	root := t.TempDir()
	sharedTree(t, root, "amd64", "arm64")
	writePkg(t, filepath.Join(root, "e"), pkgSpec{image: "e", dep: "../d", files: map[string]string{"e.txt": "e\n"}})
	first := parseBuild(t, l.ok("pkg", "build", "--progress", "plain", root+"/..."))
	if len(first) != 5 {
		t.Fatalf("first build reported %d packages, want 5: %v", len(first), first)
	}
	for ref, bl := range first {
		if bl.upToDate {
			t.Errorf("%s up to date in a fresh cache", ref)
		}
	}
	index, err := os.ReadFile(filepath.Join(l.cache, "index.json"))
	if err != nil {
		t.Fatal(err)
	}

	// Same cache, but no builder to be had.
	nb := newLKNoBuilder(t)
	nb.cache = l.cache
	r := nb.ok("pkg", "build", "--progress", "plain", root+"/...")
	second := parseBuild(t, r)
	if len(second) != len(first) {
		t.Errorf("second build reported %d packages, want %d", len(second), len(first))
	}
	for ref, bl := range second {
		if !bl.upToDate {
			t.Errorf("%s: not up to date on the second build:\n%s", ref, r)
		}
		if bl.digest != first[ref].digest {
			t.Errorf("%s: digest %s, first build %s", ref, bl.digest, first[ref].digest)
		}
	}
	if !strings.Contains(r.stderr, "0 built, 5 up to date, 0 failed") {
		t.Errorf("second build summary:\n%s", r)
	}
	after, err := os.ReadFile(filepath.Join(l.cache, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(index, after) {
		t.Errorf("a no-op build changed index.json")
	}
}

// TestPlatformsSubsetThenAll: --platforms builds a subset; a later full
// build adds the rest and keeps the existing manifests.
func TestPlatformsSubsetThenAll(t *testing.T) {
	testenv.Integration(t)
	l := newLK(t)
	dir := writePkg(t, filepath.Join(t.TempDir(), "multi"), pkgSpec{image: "multi", arches: []string{"amd64", "arm64"},
		files: map[string]string{"m.txt": "multi\n"}})

	r := l.ok("pkg", "build", "--progress", "plain", "--platforms", "linux/amd64", dir)
	if !strings.HasSuffix(strings.TrimSpace(r.stdout), " built for linux/amd64") {
		t.Errorf("first build:\n%s", r)
	}
	ref := ""
	for k := range parseBuild(t, r) {
		ref = k
	}
	ls := l.cacheLs()
	amd, ok := ls[ref+"-amd64"]
	if !ok || amd.platform != "linux/amd64" {
		t.Fatalf("no %s-amd64 after --platforms linux/amd64: %v", ref, ls)
	}
	if _, ok := ls[ref+"-arm64"]; ok {
		t.Errorf("%s-arm64 stored although only linux/amd64 was asked for", ref)
	}
	if len(ls) != 2 {
		t.Errorf("cache ls: %v", ls)
	}

	// Asking for the same subset again is a no-op.
	if r := l.ok("pkg", "build", "--platforms", "linux/amd64", dir); !strings.HasSuffix(strings.TrimSpace(r.stdout), " up to date") {
		t.Errorf("repeated subset build:\n%s", r)
	}

	r = l.ok("pkg", "build", "--progress", "plain", dir)
	if !strings.HasSuffix(strings.TrimSpace(r.stdout), " built for linux/arm64") {
		t.Errorf("full build should only build the missing arm64:\n%s", r)
	}
	full := parseBuild(t, r)[ref]
	ls = l.cacheLs()
	if e := ls[ref+"-amd64"]; e.digest != amd.digest {
		t.Errorf("amd64 manifest changed from %s to %s", amd.digest, e.digest)
	}
	if e, ok := ls[ref+"-arm64"]; !ok || e.platform != "linux/arm64" {
		t.Errorf("no %s-arm64 after a full build: %v", ref, ls)
	}
	if e := ls[ref]; e.digest != full.digest {
		t.Errorf("index %s in the cache, build said %s", e.digest, full.digest)
	}
	l.verifyCache()

	// A fresh full build in another cache gives the same index: the merge
	// is the same as building everything at once.
	l2 := newLK(t)
	r = l2.ok("pkg", "build", "--progress", "plain", dir)
	if d := parseBuild(t, r)[ref].digest; d != full.digest {
		t.Errorf("building both arches at once gives index %s, subset-then-rest gave %s", d, full.digest)
	}
	if r := l.ok("pkg", "build", dir); !strings.HasSuffix(strings.TrimSpace(r.stdout), " up to date") {
		t.Errorf("third build:\n%s", r)
	}
}

// fileInImage reads path from the file system of the manifest with
// digest dgst in an OCI layout cache (layers applied in order, so the last
// layer holding it wins).
func fileInImage(t *testing.T, cacheDir, dgst, path string) (string, bool) {
	t.Helper()
	h, err := v1.NewHash(dgst)
	if err != nil {
		t.Fatal(err)
	}
	img, err := layout.Path(cacheDir).Image(h)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.ImageFile(t, img, path)
}

// TestBuildContextNotReused: two packages whose build contexts have the
// same shape (same paths, sizes and modes; every mtime is clamped to
// SOURCE_DATE_EPOCH) but different contents, built one after the other on
// one builder, must each get their own files.
func TestBuildContextNotReused(t *testing.T) {
	testenv.Integration(t)
	l := newLK(t)
	root := t.TempDir()
	contents := map[string]string{"same1": "first package\n", "same2": "other package\n", "same3": "third package\n"}
	for _, name := range sortedNames(contents) {
		dir := writePkg(t, filepath.Join(root, name), pkgSpec{image: name, df: "FROM scratch\nCOPY data.txt /data.txt\n",
			files: map[string]string{"data.txt": contents[name]}})
		l.ok("pkg", "build", "--progress", "plain", dir) // one process each, one after the other
	}
	ls := l.cacheLs()
	seen := map[string]string{}
	for ref, e := range ls {
		if e.platform != "linux/amd64" {
			continue
		}
		name := strings.TrimPrefix(repoOf(strings.TrimSuffix(ref, "-amd64")), "lktest/")
		got, ok := fileInImage(t, l.cache, e.digest, "data.txt")
		if !ok || got != contents[name] {
			t.Errorf("%s: /data.txt is %q, want %q (its package's file): the build used another package's context", ref, got, contents[name])
		}
		if other, dup := seen[e.digest]; dup {
			t.Errorf("%s and %s have the same manifest %s although their files differ", ref, other, e.digest)
		}
		seen[e.digest] = ref
	}
	if len(seen) != len(contents) {
		t.Errorf("%d distinct amd64 manifests in the cache, want %d", len(seen), len(contents))
	}
}
