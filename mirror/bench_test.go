package mirror

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lkpkg/lkpkg/internal/testenv"
	"github.com/lkpkg/lkpkg/mirror/apk"
	"github.com/lkpkg/lkpkg/mirror/apksign"
)

// BenchmarkVerifyParseResolve is what `mirror lock` spends per arch once
// the bytes are here: verify the signatures of v3.19 main and community,
// parse both (23,030 packages) and resolve the world.
func BenchmarkVerifyParseResolve(b *testing.B) {
	alpine := testenv.AlpineDir(b)
	keys, err := apksign.LoadKeyring(filepath.Join(alpine, "keys"))
	if err != nil {
		b.Fatal(err)
	}
	var raw [][]byte
	for _, r := range []string{"main", "community"} {
		data, err := os.ReadFile(filepath.Join(alpine, "v3.19", r, "x86_64", "APKINDEX.tar.gz"))
		if err != nil {
			b.Fatal(err)
		}
		raw = append(raw, data)
	}
	world := []string{"busybox", "dhcpcd", "ca-certificates", "musl-dev", "make", "binutils", "linux-headers"}
	start := time.Now()
	n := 0
	for b.Loop() {
		// As `mirror lock` does: repositories in parallel.
		repos := make([]apk.Repository, len(raw))
		var eg errgroup.Group
		for i, data := range raw {
			eg.Go(func() error {
				pkgs, _, err := VerifyAndParse(data, keys)
				repos[i] = apk.Repository{Name: fmt.Sprint(i), Packages: pkgs}
				return err
			})
		}
		if err := eg.Wait(); err != nil {
			b.Fatal(err)
		}
		total := len(repos[0].Packages) + len(repos[1].Packages)
		if total != 23030 {
			b.Fatalf("%d packages", total)
		}
		if _, err := apk.Resolve(repos, world); err != nil {
			b.Fatal(err)
		}
		n++
	}
	per := time.Since(start) / time.Duration(n)
	b.ReportMetric(float64(per.Milliseconds()), "ms/lock")
	fmt.Printf("BENCH verify + parse + resolve v3.19 main+community (23,030 packages): %d ms (target < 100 ms)\n", per.Milliseconds())
}

// BenchmarkFetchLoopback downloads and verifies all 168 real packages of
// v3.19 main from an HTTP server on 127.0.0.1 into an empty cache.
func BenchmarkFetchLoopback(b *testing.B) {
	alpine := testenv.AlpineDir(b)
	keys, err := apksign.LoadKeyring(filepath.Join(alpine, "keys"))
	if err != nil {
		b.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(alpine, "v3.19", "main", "x86_64", "APKINDEX.tar.gz"))
	si, err := apksign.VerifyIndex(data, keys)
	if err != nil {
		b.Fatal(err)
	}
	pkgs, _ := apk.ParseIndex(bytes.NewReader(si.APKINDEX))
	lock := &Lock{Packages: map[string][]LockedPackage{}}
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join(alpine, "v3.19", "main", "x86_64", p.Name+"-"+p.Version+".apk")); err == nil {
			lock.Packages["x86_64"] = append(lock.Packages["x86_64"], LockedPackage{Name: p.Name, Version: p.Version, Arch: "x86_64", Repository: "v3.19/main", Checksum: p.Checksum, Size: p.Size})
		}
	}
	up := &Upstream{Base: serve(b, alpine)}
	var bytesTotal int64
	var elapsed time.Duration
	for b.Loop() {
		f := &Fetcher{Upstream: up, Keys: keys, Dir: b.TempDir(), Jobs: 4}
		_, st, err := f.Fetch(context.Background(), lock, []string{"x86_64"})
		if err != nil {
			b.Fatal(err)
		}
		bytesTotal += st.Bytes
		elapsed += st.Duration
	}
	mbps := float64(bytesTotal) / 1e6 / elapsed.Seconds()
	b.ReportMetric(mbps, "MB/s")
	fmt.Printf("BENCH fetch + verify %d packages (%.1f MB) from loopback HTTP: %.1f MB/s\n", len(lock.Packages["x86_64"]), float64(bytesTotal)/1e6/float64(b.N), mbps)
}
