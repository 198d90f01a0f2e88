package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

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
