package qemu

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Kind is a build output format, named as `lkpkg build --format` names it.
type Kind string

// The kinds Run boots.
const (
	KindKernelInitrd   Kind = "kernel+initrd"
	KindKernelSquashfs Kind = "kernel+squashfs"
	KindRawEFI         Kind = "raw-efi"
	KindQcow2EFI       Kind = "qcow2-efi"
	KindISOEFI         Kind = "iso-efi"
	KindRawBIOS        Kind = "raw-bios"
	KindQcow2BIOS      Kind = "qcow2-bios"
	KindISOBIOS        Kind = "iso-bios"
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
	{"-efi.img", KindRawEFI},
	{"-efi.qcow2", KindQcow2EFI},
	{"-efi.iso", KindISOEFI},
	{"-bios.img", KindRawBIOS},
	{".qcow2", KindQcow2BIOS},
	{".iso", KindISOBIOS},
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

func detect(output string, exists func(string) bool) (Image, error) {
	if st, err := os.Stat(output); err == nil && st.IsDir() {
		return Image{}, fmt.Errorf("%s is a directory: give the output's path prefix (DIR/NAME) or one of its files", output)
	}
	if exists(output) {
		return detectFile(output, exists)
	}
	if img, ok, err := detectKernel(output, "", exists); ok || err != nil {
		return img, err
	}
	for _, d := range diskKinds {
		if p := output + d.suffix; exists(p) {
			return Image{Kind: d.kind, Disk: p}, nil
		}
	}
	var want []string
	want = append(want, output+"-kernel with "+output+"-initrd.img or "+output+"-squashfs.img")
	for _, d := range diskKinds {
		want = append(want, output+d.suffix)
	}
	return Image{}, fmt.Errorf("no build output at %s: looked for %s: %w", output, strings.Join(want, ", "), fs.ErrNotExist)
}

// detectFile names the output that file belongs to from its suffix.
func detectFile(file string, exists func(string) bool) (Image, error) {
	for _, s := range []struct{ suffix, prefer string }{
		{"-kernel", ""},
		{"-cmdline", ""},
		{"-initrd.img", "-initrd.img"},
		{"-squashfs.img", "-squashfs.img"},
	} {
		if prefix, ok := strings.CutSuffix(file, s.suffix); ok && prefix != "" {
			img, found, err := detectKernel(prefix, s.prefer, exists)
			if err == nil && !found {
				err = fmt.Errorf("%s: %s missing", file, prefix+"-kernel")
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
	kernel, initrd, squash := prefix+"-kernel", prefix+"-initrd.img", prefix+"-squashfs.img"
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
	if !hasI || (hasS && prefer == "-squashfs.img") {
		img = Image{Kind: KindKernelSquashfs, Kernel: kernel, Disk: squash}
	}
	// The build writes NAME-cmdline only when the kernel has a command
	// line: its absence means an empty one.
	if c := prefix + "-cmdline"; exists(c) {
		img.Cmdline = c
	}
	return img, true, nil
}
