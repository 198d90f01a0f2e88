package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// tree10 writes ten scratch packages (four with dependencies) into root.
func tree10(b *testing.B, root string) {
	b.Helper()
	sharedTree(b, root, "amd64", "arm64")
	for i := 0; i < 6; i++ {
		s := pkgSpec{image: fmt.Sprintf("bench%d", i), files: map[string]string{
			fmt.Sprintf("f%d.txt", i): fmt.Sprintf("bench package %d %s\n", i, randomData(int64(i), 100+i)),
		}}
		if i%2 == 1 {
			s.dep = fmt.Sprintf("../bench%d", i-1)
		}
		writePkg(b, filepath.Join(root, fmt.Sprintf("bench%d", i)), s)
	}
}

// BenchmarkNoopBuildTree10 times `lkpkg pkg build` of a tree of 10
// packages that are all in the cache already (the common case of a CI
// run): it must only hash inputs and look tags up.
func BenchmarkNoopBuildTree10(b *testing.B) {
	testenv.Integration(b)
	l := newLK(b)
	root := b.TempDir()
	tree10(b, root)
	r := l.ok("pkg", "build", "--progress", "quiet", root+"/...")
	if n := len(parseBuild(b, r)); n != 10 {
		b.Fatalf("setup build reported %d packages, want 10:\n%s", n, r)
	}
	s, n := meanRun(b, "s/build", func() time.Duration {
		r := l.ok("pkg", "build", "--progress", "quiet", root+"/...")
		for ref, bl := range parseBuild(b, r) {
			if !bl.upToDate {
				b.Fatalf("%s rebuilt:\n%s", ref, r)
			}
		}
		return r.dur
	})
	fmt.Printf("BENCH no-op pkg build of 10 built packages: %.3f s (target < 1 s), mean of %d runs\n", s, n)
}

// BenchmarkShowTag times `lkpkg pkg show-tag` of the Alpine minirootfs
// package, which hashes ~6 MB of extra sources.
func BenchmarkShowTag(b *testing.B) {
	testenv.Integration(b)
	l := newLKNoBuilder(b)
	dir := alpinePkg(b, filepath.Join(b.TempDir(), "alpine"))
	l.ok("pkg", "show-tag", dir)
	s, n := meanRun(b, "s/show-tag", func() time.Duration { return l.ok("pkg", "show-tag", dir).dur })
	fmt.Printf("BENCH show-tag of the Alpine minirootfs package (~6 MB extra sources): %.3f s, mean of %d runs\n", s, n)
}

// BenchmarkColdFixtureBuild times a build of the Alpine minirootfs fixture
// (ADD of the real tarball, one RUN) for linux/amd64 into an empty cache,
// without BuildKit's cache.
func BenchmarkColdFixtureBuild(b *testing.B) {
	testenv.Integration(b)
	l := newLK(b)
	dir := alpinePkg(b, filepath.Join(b.TempDir(), "alpine"))
	l.ok("builder", "start") // the daemon start is not part of a build
	s, n := meanRun(b, "s/build", func() time.Duration {
		b.StopTimer()
		l.cache = b.TempDir()
		b.StartTimer()
		r := l.ok("pkg", "build", "--force", "--no-cache", "--platforms", "linux/amd64", "--progress", "quiet", dir)
		if lines := parseBuild(b, r); len(lines) != 1 {
			b.Fatalf("build reported %d packages:\n%s", len(lines), r)
		}
		return r.dur
	})
	fmt.Printf("BENCH cold build of the Alpine minirootfs fixture (linux/amd64, --force --no-cache, empty cache): %.2f s, mean of %d runs\n", s, n)
}

// meanRun runs run once per b.Loop iteration and reports the mean of the
// durations it returns (the command's own time, not the harness's) as
// metric; it returns that mean in seconds and the number of runs.
func meanRun(b *testing.B, metric string, run func() time.Duration) (mean float64, n int) {
	var total time.Duration
	for b.Loop() {
		total += run()
		n++
	}
	mean = total.Seconds() / float64(n)
	b.ReportMetric(mean, metric)
	return mean, n
}
