package assemble

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/lkpkg/lkpkg/assemble/output"
)

var (
	outBenchOnce   sync.Once
	outBenchRootfs []byte
)

// outBenchData returns n bytes of compressible data: mostly text-like
// (words from a small vocabulary), with binary-like stretches (small
// integers, zero runs and some noise), like a rootfs of programs,
// libraries and config files.
func outBenchData(rng *rand.Rand, n int) []byte {
	words := strings.Fields("the of and to in is for on that with as by this be are from or at an it not which " +
		"config init service kernel module device network interface address route table user group file path " +
		"error warning debug info start stop restart enable disable mount unmount socket buffer memory cpu")
	b := make([]byte, 0, n)
	for len(b) < n {
		if rng.IntN(4) == 0 { // binary stretch
			k := 256 + rng.IntN(4096)
			for i := 0; i < k; i++ {
				switch r := rng.IntN(8); {
				case r < 3:
					b = append(b, 0)
				case r < 6:
					b = append(b, byte(rng.IntN(16)))
				default:
					b = append(b, byte(rng.Uint32()))
				}
			}
			continue
		}
		k := 64 + rng.IntN(1024)
		for i := 0; i < k; i++ {
			b = append(b, words[rng.IntN(len(words))]...)
			if rng.IntN(12) == 0 {
				b = append(b, '\n')
			} else {
				b = append(b, ' ')
			}
		}
	}
	return b[:n]
}

// outBenchTar builds a ~64 MB synthetic rootfs tar: a 4 MB fake kernel,
// 4000 small files (64 B..16 KB) in 50 directories, nine 3 MB files,
// some symlinks and a hard-link group.
func outBenchTar(tb testing.TB) []byte {
	outBenchOnce.Do(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		mt := time.Unix(1700000000, 0)
		add := func(h *tar.Header, body []byte) {
			h.ModTime, h.Format = mt, tar.FormatPAX
			if h.Typeflag == tar.TypeReg {
				h.Size = int64(len(body))
			}
			if err := tw.WriteHeader(h); err != nil {
				panic(err)
			}
			if _, err := tw.Write(body); err != nil {
				panic(err)
			}
		}
		add(&tar.Header{Typeflag: tar.TypeDir, Name: "boot/", Mode: 0o755}, nil)
		add(&tar.Header{Typeflag: tar.TypeReg, Name: "boot/kernel", Mode: 0o644}, outBenchData(rng, 4<<20))
		add(&tar.Header{Typeflag: tar.TypeReg, Name: "boot/cmdline", Mode: 0o644}, []byte("console=ttyS0"))
		for d := 0; d < 50; d++ {
			dir := fmt.Sprintf("usr/lib/pkg%02d/", d)
			add(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755}, nil)
			for f := 0; f < 80; f++ {
				size := 64 + rng.IntN(16<<10)
				add(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("%sfile%03d.so", dir, f), Mode: 0o644}, outBenchData(rng, size))
				if f%10 == 0 {
					add(&tar.Header{Typeflag: tar.TypeSymlink, Name: fmt.Sprintf("%slink%03d", dir, f), Linkname: fmt.Sprintf("file%03d.so", f), Mode: 0o777}, nil)
				}
			}
		}
		add(&tar.Header{Typeflag: tar.TypeDir, Name: "usr/bin/", Mode: 0o755}, nil)
		for i := 0; i < 9; i++ {
			add(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("usr/bin/big%d", i), Mode: 0o755}, outBenchData(rng, 3<<20))
		}
		for i := 0; i < 20; i++ {
			add(&tar.Header{Typeflag: tar.TypeLink, Name: fmt.Sprintf("usr/bin/alias%d", i), Linkname: "usr/bin/big0"}, nil)
		}
		if err := tw.Close(); err != nil {
			panic(err)
		}
		outBenchRootfs = buf.Bytes()
	})
	return outBenchRootfs
}

func outMBps(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

// outTimeBest runs f reps times and returns the fastest run.
func outTimeBest(reps int, f func()) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range reps {
		t0 := time.Now()
		f()
		best = min(best, time.Since(t0))
	}
	return best
}

// outBenchWrite runs WriteOutputsWith(formats) in b's loop on rootfs and
// returns the mean time of one call and the size of each file written by
// the first, by file name.
func outBenchWrite(b *testing.B, rootfs []byte, formats []string, opts OutputOptions) (time.Duration, map[string]int64) {
	dir := b.TempDir()
	b.SetBytes(int64(len(rootfs)))
	b.ReportAllocs()
	sizes := map[string]int64{}
	start := time.Now()
	n := 0
	for b.Loop() {
		files, err := WriteOutputsWith(bytes.NewReader(rootfs), dir, "bench", formats, opts)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			for _, f := range files {
				fi, err := os.Stat(f)
				if err != nil {
					b.Fatal(err)
				}
				sizes[filepath.Base(f)] = fi.Size()
			}
		}
		n++
	}
	elapsed := time.Since(start) / time.Duration(n)
	b.StopTimer()
	return elapsed, sizes
}

// BenchmarkInitrd measures WriteOutputs(kernel+initrd) end to end (spool,
// plan, cpio, gzip, fsync, rename) on a ~64 MB rootfs, in rootfs MB/s, then
// compresses the initrd's uncompressed cpio bytes with plain stdlib gzip,
// klauspost gzip and zstd (default levels) for comparison.
func BenchmarkInitrd(b *testing.B) {
	rootfs := outBenchTar(b)
	elapsed, sizes := outBenchWrite(b, rootfs, []string{FormatKernelInitrd}, OutputOptions{})
	initrdSize := sizes["bench"+output.SuffixInitrd]

	// The initrd's cpio, uncompressed (rootfs minus boot/).
	var noBoot bytes.Buffer
	tw := tar.NewWriter(&noBoot)
	if err := output.EachEntry(bytes.NewReader(rootfs), "rootfs", func(h *tar.Header, r io.Reader) error {
		if outIsBoot(h.Name) {
			return nil
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	tw.Close()
	cpio := outTarToCPIO(b, noBoot.Bytes())
	cn := int64(len(cpio))

	compressors := []struct {
		name string
		new  func(w io.Writer) (io.WriteCloser, error)
	}{
		{"stdlib gzip", func(w io.Writer) (io.WriteCloser, error) { return stdgzip.NewWriter(w), nil }},
		{"klauspost gzip", func(w io.Writer) (io.WriteCloser, error) { return kgzip.NewWriter(w), nil }},
		{"zstd", func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) }},
		{"zstd, 1 goroutine", func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1)) }},
	}
	durs := make([]time.Duration, len(compressors))
	sizesC := make([]int, len(compressors))
	for i, c := range compressors {
		durs[i] = outTimeBest(2, func() {
			var out bytes.Buffer
			zw, err := c.new(&out)
			if err != nil {
				b.Fatal(err)
			}
			zw.Write(cpio)
			zw.Close()
			sizesC[i] = out.Len()
		})
	}
	stdDur, kDur, zDur, z1Dur := durs[0], durs[1], durs[2], durs[3]
	stdSize, kSize, zSize := sizesC[0], sizesC[1], sizesC[2]

	fmt.Printf("BENCH rootfs %.1f MB, cpio %.1f MB, %d iterations\n", float64(len(rootfs))/1e6, float64(cn)/1e6, b.N)
	fmt.Printf("BENCH initrd (cpio+gzip): %.1f MB/s (rootfs bytes; end to end incl. spool, fsync; initrd %.1f MB, ratio %.2f)\n",
		outMBps(int64(len(rootfs)), elapsed), float64(initrdSize)/1e6, float64(cn)/float64(initrdSize))
	fmt.Printf("BENCH plain gzip of the same bytes: %.1f MB/s (stdlib compress/gzip, default level; %.1f MB, ratio %.2f)\n",
		outMBps(cn, stdDur), float64(stdSize)/1e6, float64(cn)/float64(stdSize))
	fmt.Printf("BENCH klauspost gzip of the same bytes: %.1f MB/s (default level, what the initrd uses; %.1f MB, ratio %.2f)\n",
		outMBps(cn, kDur), float64(kSize)/1e6, float64(cn)/float64(kSize))
	fmt.Printf("BENCH zstd: %.1f MB/s (klauspost zstd, default level, GOMAXPROCS goroutines; %.1f MB, ratio %.2f; 1 goroutine: %.1f MB/s)\n",
		outMBps(cn, zDur), float64(zSize)/1e6, float64(cn)/float64(zSize), outMBps(cn, z1Dur))
}

// BenchmarkSquashfs measures WriteOutputs(kernel+squashfs) end to end
// (spool, boot split, squashfs with GOMAXPROCS zlib workers, fsync,
// rename) on the ~64 MB rootfs, in rootfs MB/s, and the same with one
// worker.
func BenchmarkSquashfs(b *testing.B) {
	rootfs := outBenchTar(b)
	elapsed, sizes := outBenchWrite(b, rootfs, []string{FormatKernelSquashfs}, OutputOptions{})
	size := sizes["bench"+output.SuffixSquashfs]
	dir := b.TempDir()
	run := func() {
		if _, err := WriteOutputs(bytes.NewReader(rootfs), dir, "bench", []string{FormatKernelSquashfs}); err != nil {
			b.Fatal(err)
		}
	}
	procs := runtime.GOMAXPROCS(0)
	best := outTimeBest(3, run)
	runtime.GOMAXPROCS(1)
	one := outTimeBest(3, run)
	runtime.GOMAXPROCS(procs)
	rn := int64(len(rootfs))
	fmt.Printf("BENCH squashfs: %.1f MB/s (rootfs bytes; end to end incl. spool, fsync; image %.1f MB, ratio %.2f)\n",
		outMBps(rn, elapsed), float64(size)/1e6, float64(rn)/float64(size))
	fmt.Printf("BENCH squashfs best of 3: %.1f MB/s with %d zlib workers, %.1f MB/s with 1\n", outMBps(rn, best), procs, outMBps(rn, one))
}

// BenchmarkEFI measures WriteOutputsWith for raw-efi, qcow2-efi and
// iso-efi together (one initrd, one ESP layout, three images), then each
// alone, in rootfs MB/s; the initrd's own cost is BenchmarkInitrd's.
func BenchmarkEFI(b *testing.B) {
	rootfs := outBenchTar(b)
	opts := OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64"}
	elapsed, sizes := outBenchWrite(b, rootfs, efiAll, opts)
	dir := b.TempDir()
	alone := map[string]time.Duration{}
	for _, f := range append([]string{FormatKernelInitrd}, efiAll...) {
		alone[f] = outTimeBest(2, func() {
			if _, err := WriteOutputsWith(bytes.NewReader(rootfs), dir, "bench", []string{f}, opts); err != nil {
				b.Fatal(err)
			}
		})
	}
	rn := int64(len(rootfs))
	fmt.Printf("BENCH EFI (raw+qcow2+iso): %.1f MB/s (rootfs bytes; end to end incl. spool, initrd, fsync; raw %.1f MB, qcow2 %.1f MB, iso %.1f MB)\n",
		outMBps(rn, elapsed), float64(sizes["bench"+output.SuffixRawEFI])/1e6, float64(sizes["bench"+output.SuffixQcow2EFI])/1e6, float64(sizes["bench"+output.SuffixISOEFI])/1e6)
	fmt.Printf("BENCH alone: kernel+initrd %.1f MB/s, raw-efi %.1f MB/s, qcow2-efi %.1f MB/s, iso-efi %.1f MB/s (each incl. its initrd)\n",
		outMBps(rn, alone[FormatKernelInitrd]), outMBps(rn, alone[FormatRawEFI]), outMBps(rn, alone[FormatQcow2EFI]), outMBps(rn, alone[FormatISOEFI]))
}
