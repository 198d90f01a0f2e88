package assemble

// Output writers: turn the root filesystem tar stream into the files
// `linuxkit build -format ...` writes, natively in Go and deterministically.
//
//	tar                base.tar            the rootfs tar, byte for byte
//	kernel+initrd      base-kernel         boot/kernel
//	                   base-initrd.img     [boot/ucode.cpio] + gzip(newc cpio of the rootfs minus boot/)
//	                   base-cmdline        boot/cmdline
//	tar-kernel-initrd  base-initrd.tar     kernel, initrd.img, cmdline[, ucode.cpio]
//	kernel+squashfs    base-kernel         boot/kernel
//	                   base-squashfs.img   squashfs 4.0 (zlib) of the rootfs minus boot/ (package output/squashfs)
//	                   base-cmdline        boot/cmdline
//	raw-efi            base-efi.img        GPT disk, one FAT32 EFI System Partition: systemd-boot,
//	                                       loader entry, kernel, initrd.img (output_efi.go, package output/efidisk)
//	qcow2-efi          base-efi.qcow2      the raw-efi disk as a sparse qcow2 v3 (package output/qcow2)
//	iso-efi            base-efi.iso        ISO 9660 whose El Torito EFI boot image is that ESP
//
// As in LinuxKit (initrd.CopySplitTar), everything under boot/ stays out of
// the initrd and the squashfs, and the kernel, cmdline and ucode files are
// only written when the rootfs has them (non-empty). The EFI formats need
// the kernel, and a bootloader from OutputOptions; their initrd.img is the
// kernel+initrd output's initrd, byte for byte (built once).

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/lkpkg/lkpkg/assemble/output"
	"github.com/lkpkg/lkpkg/assemble/output/cpio"
	"github.com/lkpkg/lkpkg/assemble/output/efidisk"
	"github.com/lkpkg/lkpkg/assemble/output/squashfs"
)

// Output format names, as `linuxkit build -format`.
const (
	FormatTar             = output.FormatTar
	FormatKernelInitrd    = output.FormatKernelInitrd
	FormatTarKernelInitrd = output.FormatTarKernelInitrd
	FormatKernelSquashfs  = output.FormatKernelSquashfs
	FormatRawEFI          = output.FormatRawEFI
	FormatQcow2EFI        = output.FormatQcow2EFI
	FormatISOEFI          = output.FormatISOEFI
)

var (
	outSupported = []string{FormatTar, FormatKernelInitrd, FormatTarKernelInitrd, FormatKernelSquashfs,
		FormatRawEFI, FormatQcow2EFI, FormatISOEFI}
	outNotYet     []string // LinuxKit formats known but not implemented
	outEFIFormats = []string{FormatRawEFI, FormatQcow2EFI, FormatISOEFI}
)

// OutputOptions are the inputs of WriteOutputsWith beyond the rootfs.
type OutputOptions struct {
	// EFIBootloader is the EFI binary (systemd-boot's systemd-bootx64.efi
	// or systemd-bootaa64.efi) for the EFI formats; it comes from a pinned
	// package image, never from the host. Required for the *-efi formats.
	EFIBootloader []byte
	// Arch is "amd64" or "arm64": it picks EFI/BOOT/BOOTX64.EFI or
	// BOOTAA64.EFI. Empty means the bootloader's PE machine type; a PE
	// bootloader for another architecture is an error.
	Arch string
	// DiskSize is the size of the raw-efi and qcow2-efi disk, rounded up to
	// 512 bytes; the space after the ESP is left unpartitioned. 0 sizes the
	// disk to fit the ESP (which has its own headroom: 10% + 2 MiB, and at
	// least the 65536 clusters of a proper FAT32).
	DiskSize int64
}

// outGzipLevel is the initrd's gzip level (klauspost/compress/gzip, which is
// deterministic for a given level and library version).
var outGzipLevel = gzip.DefaultCompression

// outModTime is the mtime of the entries of tar-kernel-initrd, as LinuxKit's
// defaultModTime.
var outModTime = time.Unix(0, 0)

// outMaxSmall bounds boot/cmdline and boot/ucode.cpio, which are held in memory.
const outMaxSmall = 64 << 20

// outReadingRootfs prefixes the errors of reading the rootfs tar.
const outReadingRootfs = "reading the rootfs tar"

// SupportedFormats returns the output formats WriteOutputs can write.
func SupportedFormats() []string { return slices.Clone(outSupported) }

// CheckFormats validates a format list: every format known and implemented,
// at least one. Duplicates are allowed (written once).
func CheckFormats(formats []string) error {
	if len(formats) == 0 {
		return fmt.Errorf("no output format given (supported: %s)", strings.Join(outSupported, ", "))
	}
	for _, f := range formats {
		switch {
		case slices.Contains(outSupported, f):
		case slices.Contains(outNotYet, f):
			return fmt.Errorf("output format %q is not implemented yet (supported: %s)", f, strings.Join(outSupported, ", "))
		case len(outNotYet) > 0:
			return fmt.Errorf("unknown output format %q (supported: %s; not implemented yet: %s)",
				f, strings.Join(outSupported, ", "), strings.Join(outNotYet, ", "))
		default:
			return fmt.Errorf("unknown output format %q (supported: %s)", f, strings.Join(outSupported, ", "))
		}
	}
	return nil
}

// CheckFormatsWith is CheckFormats, plus what the formats need of opts (the
// EFI formats: a bootloader of a known architecture), so that a build can
// fail before it starts.
func CheckFormatsWith(formats []string, opts OutputOptions) error {
	if err := CheckFormats(formats); err != nil {
		return err
	}
	for _, f := range formats {
		if slices.Contains(outEFIFormats, f) {
			if _, err := efidisk.BootName(opts.EFIBootloader, opts.Arch); err != nil {
				return fmt.Errorf("output format %s: %w", f, err)
			}
			break
		}
	}
	if opts.DiskSize < 0 {
		return fmt.Errorf("disk size %d is negative", opts.DiskSize)
	}
	return nil
}

// WriteOutputs reads the rootfs tar stream once and writes the requested
// formats into dir as base+suffix files. Every file is written to a hidden
// temporary file in dir, fsynced, and renamed into place only once all of them
// are complete: an error before that leaves no output file created or
// replaced, and no temporary file behind. It returns the
// paths written, in format order. The same rootfs bytes always give the same
// output bytes. The EFI formats need WriteOutputsWith.
func WriteOutputs(rootfs io.Reader, dir, base string, formats []string) ([]string, error) {
	return WriteOutputsWith(rootfs, dir, base, formats, OutputOptions{})
}

// WriteOutputsWith is WriteOutputs with options (the EFI bootloader and
// architecture, the disk size). The same rootfs bytes and options always
// give the same output bytes.
func WriteOutputsWith(rootfs io.Reader, dir, base string, formats []string, opts OutputOptions) (_ []string, err error) {
	if err := CheckFormatsWith(formats, opts); err != nil {
		return nil, err
	}
	if base == "" || base == "." || base == ".." || strings.ContainsAny(base, `/\`) {
		return nil, fmt.Errorf("output name %q: want a plain file name", base)
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("output directory %s: not a directory", dir)
	}
	want := func(f string) bool { return slices.Contains(formats, f) }
	needEFI := slices.ContainsFunc(formats, func(f string) bool { return slices.Contains(outEFIFormats, f) })
	needInitrd := want(FormatKernelInitrd) || want(FormatTarKernelInitrd) || needEFI
	needSplit := needInitrd || want(FormatKernelSquashfs)

	o := &outFiles{dir: dir}
	defer func() {
		if cerr := o.cleanup(); err == nil && cerr != nil {
			err = cerr
		}
	}()

	// 1. Spool the stream: it is the tar output when asked for, and the
	// initrd needs two passes (a header-only plan, then the data).
	spool, err := o.temp(base + output.SuffixTar)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(spool, rootfs); err != nil {
		return nil, fmt.Errorf("reading the rootfs: %w", err)
	}
	if want(FormatTar) {
		o.promote(FormatTar, spool, base+output.SuffixTar)
	}

	if needSplit {
		sp, err := outSplit(o, spool, base, needInitrd)
		if err != nil {
			return nil, err
		}
		if want(FormatKernelInitrd) {
			if err := outKernelInitrd(o, sp, base); err != nil {
				return nil, err
			}
		}
		if want(FormatTarKernelInitrd) {
			if err := outTarKernelInitrd(o, sp, base); err != nil {
				return nil, err
			}
		}
		if want(FormatKernelSquashfs) {
			if err := outKernelSquashfs(o, spool, sp, base); err != nil {
				return nil, err
			}
		}
		if needEFI {
			if err := outEFI(o, sp, base, opts, want); err != nil {
				return nil, err
			}
		}
	}

	var order []string
	for _, f := range formats {
		if !slices.Contains(order, f) {
			order = append(order, f)
		}
	}
	written, err := o.commit(order)
	if err != nil {
		return written, err
	}
	if err := outRemoveStale(dir, base, order, written); err != nil {
		return written, err
	}
	return written, nil
}

// outSplitResult is the rootfs split as LinuxKit's CopySplitTar does.
type outSplitResult struct {
	kernel     *os.File // boot/kernel (temp file)
	kernelSize int64
	initrd     *os.File // gzip'd newc cpio, padded to 4 bytes (temp file), if asked for
	initrdSize int64
	cmdline    []byte
	ucode      []byte

	full     *os.File // [ucode +] initrd, the kernel+initrd output's initrd.img
	fullSize int64
}

// fullInitrd returns the initrd.img of kernel+initrd (and of the EFI
// formats): the ucode cpio, uncompressed and padded to 4 bytes, then the
// initrd, as LinuxKit writes it. Built once.
func (sp *outSplitResult) fullInitrd(o *outFiles, base string) (*os.File, int64, error) {
	if sp.full != nil {
		return sp.full, sp.fullSize, nil
	}
	if len(sp.ucode) == 0 {
		sp.full, sp.fullSize = sp.initrd, sp.initrdSize
		return sp.full, sp.fullSize, nil
	}
	f, err := o.temp(base + output.SuffixInitrd)
	if err != nil {
		return nil, 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &output.CountingWriter{W: bw}
	if _, err := cw.Write(outPad4(sp.ucode)); err != nil {
		return nil, 0, err
	}
	if _, err := io.Copy(cw, io.NewSectionReader(sp.initrd, 0, sp.initrdSize)); err != nil {
		return nil, 0, err
	}
	if err := bw.Flush(); err != nil {
		return nil, 0, err
	}
	sp.full, sp.fullSize = f, cw.N
	return sp.full, sp.fullSize, nil
}

func outIsBoot(name string) bool {
	n := outBootName(name)
	return n == "boot" || strings.HasPrefix(n, "boot/")
}

func outBootName(name string) string {
	n, err := output.CleanName(name)
	if err != nil {
		return ""
	}
	return n
}

// outSplit takes boot/kernel, boot/cmdline and boot/ucode.cpio out of the
// rootfs and, if withInitrd, writes the initrd of the rest.
func outSplit(o *outFiles, spool *os.File, base string, withInitrd bool) (*outSplitResult, error) {
	sp := &outSplitResult{}
	var (
		fw    *output.CountingWriter
		gz    *gzip.Writer
		gzbuf *bufio.Writer
		cw    *cpio.Writer
		err   error
	)
	if withInitrd {
		// Plan: headers only (tar.Reader seeks over the data of a file).
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		if sp.initrd, err = o.temp(base + output.SuffixInitrd); err != nil {
			return nil, err
		}
		fw = &output.CountingWriter{W: bufio.NewWriterSize(sp.initrd, 1<<20)}
		if gz, err = gzip.NewWriterLevel(fw, outGzipLevel); err != nil {
			return nil, err
		}
		// No name, mtime 0: klauspost/compress/gzip would write the zero
		// time.Time's Unix() truncated to 32 bits.
		gz.ModTime = time.Unix(0, 0)
		gzbuf = bufio.NewWriterSize(gz, 256<<10)
		cw = cpio.NewWriter(gzbuf)

		if err := output.EachEntry(spool, outReadingRootfs, func(h *tar.Header, _ io.Reader) error {
			if outIsBoot(h.Name) {
				return nil
			}
			return cw.Plan(h)
		}); err != nil {
			return nil, err
		}
	}

	// Data pass (without an initrd, only boot/ is read).
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	var data io.Reader = spool // the tar reader seeks over the data it does not need
	if withInitrd {
		data = bufio.NewReaderSize(spool, 1<<20)
	}
	if err := output.EachEntry(data, outReadingRootfs, func(h *tar.Header, r io.Reader) error {
		if !outIsBoot(h.Name) {
			if cw != nil {
				return cw.WriteTarEntry(h, r)
			}
			return nil
		}
		return sp.readBootFile(o, base, h, r) // the rest of boot/ stays out of the initrd
	}); err != nil {
		return nil, err
	}
	if cw == nil {
		return sp, nil
	}
	if err := cw.Close(); err != nil {
		return nil, err
	}
	if err := gzbuf.Flush(); err != nil {
		return nil, fmt.Errorf("writing the initrd: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("writing the initrd: %w", err)
	}
	// LinuxKit pads the compressed stream to 4 bytes, so that more cpio
	// segments can follow; the kernel skips zero padding between segments.
	if p := (4 - fw.N%4) % 4; p > 0 {
		if _, err := fw.Write(make([]byte, p)); err != nil {
			return nil, fmt.Errorf("writing the initrd: %w", err)
		}
	}
	if err := fw.W.(*bufio.Writer).Flush(); err != nil {
		return nil, fmt.Errorf("writing the initrd: %w", err)
	}
	sp.initrdSize = fw.N
	return sp, nil
}

// readBootFile keeps boot/kernel (in a temporary file), boot/cmdline and
// boot/ucode.cpio; a later one of the same name wins.
func (sp *outSplitResult) readBootFile(o *outFiles, base string, h *tar.Header, r io.Reader) error {
	var err error
	regular := h.Typeflag == tar.TypeReg || h.Typeflag == '\x00'
	switch name := outBootName(h.Name); {
	case name == "boot/kernel" && regular:
		if sp.kernel == nil {
			if sp.kernel, err = o.temp(base + output.SuffixKernel); err != nil {
				return err
			}
		} else if err := outRewind(sp.kernel); err != nil {
			return err
		}
		if sp.kernelSize, err = io.Copy(sp.kernel, r); err != nil {
			return fmt.Errorf("writing the kernel: %w", err)
		}
	case name == "boot/cmdline" && regular:
		sp.cmdline, err = outReadSmall(h, r)
	case name == "boot/ucode.cpio" && regular:
		sp.ucode, err = outReadSmall(h, r)
	}
	return err
}

func outReadSmall(h *tar.Header, r io.Reader) ([]byte, error) {
	if h.Size > outMaxSmall {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d allowed", h.Name, h.Size, outMaxSmall)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", h.Name, err)
	}
	return b, nil
}

func outRewind(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

func outKernelInitrd(o *outFiles, sp *outSplitResult, base string) error {
	outKernel(o, sp, base, FormatKernelInitrd)
	f, _, err := sp.fullInitrd(o, base)
	if err != nil {
		return err
	}
	o.promote(FormatKernelInitrd, f, base+output.SuffixInitrd)
	return outCmdline(o, sp, base, FormatKernelInitrd)
}

// outKernel promotes base-kernel (when the rootfs has one) for format; the
// file is shared by kernel+initrd and kernel+squashfs, as base-cmdline is.
func outKernel(o *outFiles, sp *outSplitResult, base, format string) {
	if sp.kernel != nil && sp.kernelSize > 0 {
		o.promote(format, sp.kernel, base+output.SuffixKernel)
	}
}

// outCmdline promotes base-cmdline (when the rootfs has one) for format.
func outCmdline(o *outFiles, sp *outSplitResult, base, format string) error {
	if len(sp.cmdline) == 0 {
		return nil
	}
	f := o.named(base + output.SuffixCmdline)
	if f == nil {
		var err error
		if f, err = o.temp(base + output.SuffixCmdline); err != nil {
			return err
		}
		if _, err := f.Write(sp.cmdline); err != nil {
			return err
		}
	}
	o.promote(format, f, base+output.SuffixCmdline)
	return nil
}

// outKernelSquashfs writes kernel+squashfs: the squashfs of the rootfs
// minus boot/ (one more pass over the spool), the kernel and the cmdline.
func outKernelSquashfs(o *outFiles, spool *os.File, sp *outSplitResult, base string) (err error) {
	f, err := o.temp(base + output.SuffixSquashfs)
	if err != nil {
		return err
	}
	sw, err := squashfs.NewWriter(f)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			sw.Abort()
		}
	}()
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := output.EachEntry(bufio.NewReaderSize(spool, 1<<20), outReadingRootfs, func(h *tar.Header, r io.Reader) error {
		if outIsBoot(h.Name) {
			return nil
		}
		return sw.WriteTarEntry(h, r)
	}); err != nil {
		return err
	}
	if err := sw.Close(); err != nil {
		return err
	}
	outKernel(o, sp, base, FormatKernelSquashfs)
	o.promote(FormatKernelSquashfs, f, base+output.SuffixSquashfs)
	return outCmdline(o, sp, base, FormatKernelSquashfs)
}

// outPad4 pads b with zeros to a multiple of 4 bytes, the alignment the
// kernel expects of the next initramfs segment.
func outPad4(b []byte) []byte {
	if p := (4 - len(b)%4) % 4; p > 0 {
		return append(slices.Clip(b), make([]byte, p)...)
	}
	return b
}

// outTarKernelInitrd writes LinuxKit's tar-kernel-initrd layout (moby
// outputKernelInitrdTarball): kernel, initrd.img, cmdline, ucode.cpio, each
// 0644 with mtime 0, in PAX format, skipping empty ones but initrd.img.
func outTarKernelInitrd(o *outFiles, sp *outSplitResult, base string) error {
	f, err := o.temp(base + output.SuffixInitrdTar)
	if err != nil {
		return err
	}
	if err := writeKernelInitrdTar(f, sp); err != nil {
		return fmt.Errorf("writing %s: %w", base+output.SuffixInitrdTar, err)
	}
	o.promote(FormatTarKernelInitrd, f, base+output.SuffixInitrdTar)
	return nil
}

func writeKernelInitrdTar(f *os.File, sp *outSplitResult) error {
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{
			Name: name, Mode: 0o644, Size: size, ModTime: outModTime,
			Typeflag: tar.TypeReg, Format: tar.FormatPAX,
		}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if sp.kernel != nil && sp.kernelSize > 0 {
		if _, err := sp.kernel.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := add("kernel", sp.kernelSize, io.LimitReader(sp.kernel, sp.kernelSize)); err != nil {
			return err
		}
	}
	if err := add("initrd.img", sp.initrdSize, io.NewSectionReader(sp.initrd, 0, sp.initrdSize)); err != nil {
		return err
	}
	for _, small := range []struct {
		name string
		data []byte
	}{{"cmdline", sp.cmdline}, {"ucode.cpio", sp.ucode}} {
		if len(small.data) > 0 {
			if err := add(small.name, int64(len(small.data)), bytes.NewReader(small.data)); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}
