package output

import (
	"fmt"
	"path"
	"strings"
)

// Format names, as `linuxkit build -format` and `lkpkg build --format`
// spell them. The BIOS formats are LinuxKit's; lkpkg does not write them,
// but `lkpkg run` boots them when LinuxKit did.
const (
	FormatTar             = "tar"
	FormatKernelInitrd    = "kernel+initrd"
	FormatTarKernelInitrd = "tar-kernel-initrd"
	FormatKernelSquashfs  = "kernel+squashfs"
	FormatRawEFI          = "raw-efi"
	FormatQcow2EFI        = "qcow2-efi"
	FormatISOEFI          = "iso-efi"
	FormatRawBIOS         = "raw-bios"
	FormatQcow2BIOS       = "qcow2-bios"
	FormatISOBIOS         = "iso-bios"
)

// Output file names: a build of image NAME into DIR writes DIR/NAME+suffix.
// Defined once here, for the writer (assemble) and the reader (qemu.Detect).
const (
	SuffixTar       = ".tar"          // tar
	SuffixKernel    = "-kernel"       // kernel+initrd, kernel+squashfs
	SuffixCmdline   = "-cmdline"      // kernel+initrd, kernel+squashfs
	SuffixInitrd    = "-initrd.img"   // kernel+initrd
	SuffixSquashfs  = "-squashfs.img" // kernel+squashfs
	SuffixInitrdTar = "-initrd.tar"   // tar-kernel-initrd
	SuffixRawEFI    = "-efi.img"      // raw-efi
	SuffixQcow2EFI  = "-efi.qcow2"    // qcow2-efi
	SuffixISOEFI    = "-efi.iso"      // iso-efi
	SuffixRawBIOS   = "-bios.img"     // raw-bios (LinuxKit)
	SuffixQcow2BIOS = ".qcow2"        // qcow2-bios (LinuxKit)
	SuffixISOBIOS   = ".iso"          // iso-bios (LinuxKit)
)

// CleanName turns a tar entry name into the name of the entry inside an
// archive or file system: relative, cleaned, with no trailing slash; the
// root is ".". Names escaping the root are refused, whatever the writer.
func CleanName(name string) (string, error) {
	n := strings.TrimLeft(name, "/")
	n = path.Clean(n)
	if n == "" {
		n = "."
	}
	if n == ".." || strings.HasPrefix(n, "../") {
		return "", fmt.Errorf("entry %q escapes the archive root", name)
	}
	return n, nil
}
