package assemble

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/assemble/layer/layertest"
	"github.com/lkpkg/lkpkg/cache"
)

// benchImage is a one-layer image of n files of size bytes each, half
// random (incompressible) and half text, as binaries and configs are.
func benchImage(b *testing.B, seed uint64, label string, extra []layertest.Entry, n, size int) v1.ImageIndex {
	r := rand.New(rand.NewPCG(seed, 1))
	entries := append([]layertest.Entry{layertest.Dir("usr/"), layertest.Dir("usr/bin/")}, extra...)
	for i := range n {
		buf := make([]byte, size)
		if i%2 == 0 {
			for j := range buf {
				buf[j] = byte(r.Uint32())
			}
		} else {
			line := []byte(fmt.Sprintf("config line %d of image %d\n", i, seed))
			for j := range buf {
				buf[j] = line[j%len(line)]
			}
		}
		entries = append(entries, layertest.File(fmt.Sprintf("usr/bin/f%d-%d", seed, i), string(buf)))
	}
	return asmIndex(b, asmImage(b, label, entries...))
}

// BenchmarkAssembleWarm assembles an image with a kernel, 3 init images,
// 2 onboot and 3 services from a warm local cache with IMAGE.lock
// present (no network, no resolution): compose plus kernel+initrd.
func BenchmarkAssembleWarm(b *testing.B) {
	c, err := cache.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	kernelBytes := make([]byte, 8<<20)
	kr := rand.New(rand.NewPCG(9, 9))
	for i := range kernelBytes {
		kernelBytes[i] = byte(kr.Uint32())
	}
	images := map[string]v1.ImageIndex{
		"bench/kernel:1": asmIndex(b, asmImage(b, "", layertest.File("kernel", string(kernelBytes)), layertest.File("kernel.tar", asmKernelTar(b)))),
	}
	var yml strings.Builder
	yml.WriteString("kernel:\n  image: bench/kernel:1\n  cmdline: console=ttyS0\ninit:\n")
	for i := range 3 {
		ref := fmt.Sprintf("bench/init%d:1", i)
		images[ref] = benchImage(b, uint64(10+i), "", nil, 16, 256<<10)
		fmt.Fprintf(&yml, "  - %s\n", ref)
	}
	svcLabel := `{"binds":["/dev:/dev"],"capabilities":["CAP_NET_ADMIN"],"command":["/usr/bin/svc"]}`
	for _, kind := range []struct {
		section string
		n       int
	}{{"onboot", 2}, {"services", 3}} {
		fmt.Fprintf(&yml, "%s:\n", kind.section)
		for i := range kind.n {
			ref := fmt.Sprintf("bench/%s%d:1", kind.section, i)
			images[ref] = benchImage(b, uint64(20+len(images)), svcLabel, nil, 8, 256<<10)
			fmt.Fprintf(&yml, "  - name: %s%d\n    image: %s\n", kind.section, i, ref)
		}
	}
	for ref, idx := range images {
		if _, err := c.WriteIndex(ctx, ref, idx); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	yamlPath := filepath.Join(dir, "bench.yml")
	if err := os.WriteFile(yamlPath, []byte(yml.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	opts := Options{Cache: c, OutputDir: filepath.Join(dir, "out"), Formats: []string{FormatKernelInitrd}}
	if _, err := Build(ctx, yamlPath, opts); err != nil { // writes the lock: later runs are warm
		b.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "out", "bench-initrd.img"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(ctx, yamlPath, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Size())/1e6, "initrd-MB")
	b.ReportMetric(float64(len(images)), "images")
}
