package qemu

import (
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/lkpkg/lkpkg/assemble/output"
)

// Kind is a build output format, named as `lkpkg build --format` names it.
type Kind string

// The kinds Run boots.
const (
	KindKernelInitrd   Kind = output.FormatKernelInitrd
	KindKernelSquashfs Kind = output.FormatKernelSquashfs
	KindRawEFI         Kind = output.FormatRawEFI
	KindQcow2EFI       Kind = output.FormatQcow2EFI
	KindISOEFI         Kind = output.FormatISOEFI
	KindRawBIOS        Kind = output.FormatRawBIOS
	KindQcow2BIOS      Kind = output.FormatQcow2BIOS
	KindISOBIOS        Kind = output.FormatISOBIOS
)

// kernelBoot reports whether QEMU loads the kernel itself (-kernel), so
// that Run controls the command line.
func (k Kind) kernelBoot() bool { return k == KindKernelInitrd || k == KindKernelSquashfs }

// efi reports whether the kind needs UEFI firmware.
func (k Kind) efi() bool { return k == KindRawEFI || k == KindQcow2EFI || k == KindISOEFI }

// Image is a detected build output: its kind and its files. Unused fields
// are empty.
type Image struct {
	Kind    Kind
	Kernel  string // kernel kinds: NAME-kernel
	Initrd  string // kernel+initrd: NAME-initrd.img
	Cmdline string // kernel kinds: NAME-cmdline, "" when the build wrote none
	Disk    string // squashfs, disk or ISO image
}

// diskKinds are the single-file kinds, by file suffix, in the order a bare
// prefix tries them (after the kernel kinds).
var diskKinds = []struct {
	suffix string
	kind   Kind
}{
	{output.SuffixRawEFI, KindRawEFI},
	{output.SuffixQcow2EFI, KindQcow2EFI},
	{output.SuffixISOEFI, KindISOEFI},
	{output.SuffixRawBIOS, KindRawBIOS},
	{output.SuffixQcow2BIOS, KindQcow2BIOS},
	{output.SuffixISOBIOS, KindISOBIOS},
}

// Detect finds the build output named by output, as `lkpkg build -o DIR`
// writes it for image NAME:
//
//   - a file of an output (DIR/NAME-kernel, DIR/NAME-initrd.img,
//     DIR/NAME-squashfs.img, DIR/NAME-efi.img...) selects that output;
//   - a prefix (DIR/NAME) selects the first output found, in the order
//     kernel+initrd, kernel+squashfs, raw-efi, qcow2-efi, iso-efi,
//     raw-bios, qcow2-bios, iso-bios.
//
// The error for a half-present output names the file that is missing.
func Detect(output string) (Image, error) {
	return detect(output, isFile)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func detect(target string, exists func(string) bool) (Image, error) {
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		return Image{}, fmt.Errorf("%s is a directory: give the output's path prefix (DIR/NAME) or one of its files", target)
	}
	if exists(target) {
		return detectFile(target, exists)
	}
	if img, ok, err := detectKernel(target, "", exists); ok || err != nil {
		return img, err
	}
	for _, d := range diskKinds {
		if p := target + d.suffix; exists(p) {
			return Image{Kind: d.kind, Disk: p}, nil
		}
	}
	var want []string
	want = append(want, target+output.SuffixKernel+" with "+target+output.SuffixInitrd+" or "+target+output.SuffixSquashfs)
	for _, d := range diskKinds {
		want = append(want, target+d.suffix)
	}
	return Image{}, fmt.Errorf("no build output at %s: looked for %s: %w", target, strings.Join(want, ", "), fs.ErrNotExist)
}

// detectFile names the output that file belongs to from its suffix.
func detectFile(file string, exists func(string) bool) (Image, error) {
	for _, s := range []struct{ suffix, prefer string }{
		{output.SuffixKernel, ""},
		{output.SuffixCmdline, ""},
		{output.SuffixInitrd, output.SuffixInitrd},
		{output.SuffixSquashfs, output.SuffixSquashfs},
	} {
		if prefix, ok := strings.CutSuffix(file, s.suffix); ok && prefix != "" {
			img, found, err := detectKernel(prefix, s.prefer, exists)
			if err == nil && !found {
				err = fmt.Errorf("%s: %s missing", file, prefix+output.SuffixKernel)
			}
			return img, err
		}
	}
	for _, d := range diskKinds {
		if strings.HasSuffix(file, d.suffix) {
			return Image{Kind: d.kind, Disk: file}, nil
		}
	}
	var suffixes []string
	for _, d := range diskKinds {
		suffixes = append(suffixes, "NAME"+d.suffix)
	}
	return Image{}, fmt.Errorf("%s: cannot tell the output format from the file name (want NAME-kernel, NAME-initrd.img, NAME-squashfs.img, %s)",
		file, strings.Join(suffixes, ", "))
}

// detectKernel looks for a kernel output at prefix. found is false when
// neither the kernel nor its companions exist (the caller tries other
// kinds); a kernel without its initrd or squashfs, or the reverse, is an
// error naming what is missing. prefer ("-initrd.img" or "-squashfs.img")
// picks the kind when both companions exist.
func detectKernel(prefix, prefer string, exists func(string) bool) (img Image, found bool, err error) {
	kernel, initrd, squash := prefix+output.SuffixKernel, prefix+output.SuffixInitrd, prefix+output.SuffixSquashfs
	hasK, hasI, hasS := exists(kernel), exists(initrd), exists(squash)
	switch {
	case !hasK && !hasI && !hasS:
		return Image{}, false, nil
	case !hasK:
		have := initrd
		if !hasI {
			have = squash
		}
		return Image{}, true, fmt.Errorf("found %s but not the kernel %s beside it", have, kernel)
	case !hasI && !hasS:
		return Image{}, true, fmt.Errorf("found the kernel %s but neither %s (kernel+initrd) nor %s (kernel+squashfs) beside it",
			kernel, initrd, squash)
	}
	img = Image{Kind: KindKernelInitrd, Kernel: kernel, Initrd: initrd}
	if !hasI || (hasS && prefer == output.SuffixSquashfs) {
		img = Image{Kind: KindKernelSquashfs, Kernel: kernel, Disk: squash}
	}
	// The build writes NAME-cmdline only when the kernel has a command
	// line: its absence means an empty one.
	if c := prefix + output.SuffixCmdline; exists(c) {
		img.Cmdline = c
	}
	return img, true, nil
}
