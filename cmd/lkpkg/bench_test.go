package main

import (
	"fmt"
	"path/filepath"
	"strings"
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

// BenchmarkPushSignVerify times publishing a built 2-arch image (~6 MB,
// one 3 MB layer per arch) into a new repository per iteration, as the
// CLI does it: the first push, an unchanged second push (must upload
// nothing), signing with cosign and notation (index, 2 manifests, an SBOM
// attestation per manifest) and verifying both.
func BenchmarkPushSignVerify(b *testing.B) {
	testenv.Integration(b)
	reg := testenv.Registry(b)
	l := newPublishLK(b)
	keys := genKeys(b, l)
	dir := writePkg(b, filepath.Join(b.TempDir(), "bench"), pkgSpec{
		image:  "pushbench",
		arches: []string{"amd64", "arm64"},
		files: map[string]string{
			"data-amd64.bin": randomData(1, 3<<20),
			"data-arm64.bin": randomData(2, 3<<20),
			"bench.conf":     "bench=1\n",
		},
		df: "FROM scratch\nARG TARGETARCH\nCOPY data-${TARGETARCH}.bin /data.bin\nCOPY bench.conf /etc/bench.conf\n",
	})
	local := builtRefs(b, l.ok("pkg", "build", "--progress", "quiet", dir))["pushbench"][0]
	tag := local[strings.LastIndex(local, ":")+1:]

	var (
		n                              int
		firstMB, secondMB              float64
		firstT, secondT, signT, verifT time.Duration
	)
	for b.Loop() {
		n++
		dest := fmt.Sprintf("%s/bench/pushbench%d:%s", reg, n, tag)
		r1 := l.ok("push", "--insecure-registry", local, dest)
		p1 := parsePushes(b, r1)[dest]
		if p1.mb < 6 {
			b.Fatalf("first push into a new repository uploaded %.1f MB, want > 6:\n%s", p1.mb, r1)
		}
		r2 := l.ok("push", "--insecure-registry", local, dest)
		p2 := parsePushes(b, r2)[dest]
		if size, up, _ := pushSummary(b, r2, dest); p2.mb != 0 || size != "0 B" || up != 0 {
			b.Fatalf("second push uploaded %s (%d blobs):\n%s", size, up, r2)
		}
		if p2.digest != p1.digest {
			b.Fatalf("second push moved the tag: %s -> %s", p1.digest, p2.digest)
		}
		rs := l.ok(append([]string{"sign", "--insecure-registry"}, append(keys.signArgs(), dest)...)...)
		if c := strings.Count(rs.stdout, "attestations: https://spdx.dev/Document"); c != 2 {
			b.Fatalf("sign attached %d SBOMs, want 2:\n%s", c, rs)
		}
		rv := l.ok(append(append([]string{"verify", "--insecure-registry"}, keys.verifyArgs()...), dest)...)
		if c := strings.Count(rv.stdout, "signed by cosign"); c != 3 {
			b.Fatalf("verify checked %d manifests, want 3:\n%s", c, rv)
		}
		firstMB += p1.mb
		secondMB += p2.mb
		firstT += r1.dur
		secondT += r2.dur
		signT += rs.dur
		verifT += rv.dur
	}
	f := float64(n)
	b.ReportMetric(firstT.Seconds()/f, "s/first-push")
	b.ReportMetric(secondT.Seconds()/f, "s/second-push")
	b.ReportMetric(signT.Seconds()/f, "s/sign")
	b.ReportMetric(verifT.Seconds()/f, "s/verify")
	fmt.Printf("BENCH first push: %.1f MB in %.2f s (mean of %d, lkpkg process included)\n", firstMB/f, firstT.Seconds()/f, n)
	fmt.Printf("BENCH second push: %.0f bytes in %.2f s\n", secondMB*1e6/f, secondT.Seconds()/f)
	fmt.Printf("BENCH sign (cosign+notation, index + 2 manifests + 2 SBOM attestations): %.2f s\n", signT.Seconds()/f)
	fmt.Printf("BENCH verify (cosign+notation, index + 2 manifests + attestations): %.2f s\n", verifT.Seconds()/f)
}
