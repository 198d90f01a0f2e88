package assemble

// The EFI outputs: raw-efi (base-efi.img), qcow2-efi (base-efi.qcow2) and
// iso-efi (base-efi.iso) share one EFI System Partition (package efidisk):
// raw-efi is the GPT disk holding it, qcow2-efi that disk converted by
// package qcow2, iso-efi an ISO 9660 image with the ESP's FAT image as its
// El Torito boot image (package iso9660). It is planned once.

import (
	"errors"
	"fmt"

	"github.com/lkpkg/lkpkg/assemble/output"
	"github.com/lkpkg/lkpkg/assemble/output/efidisk"
	"github.com/lkpkg/lkpkg/assemble/output/iso9660"
	"github.com/lkpkg/lkpkg/assemble/output/qcow2"
)

// outEFI writes the requested EFI formats.
func outEFI(o *outFiles, sp *outSplitResult, base string, opts OutputOptions, want func(string) bool) error {
	bootName, err := efidisk.BootName(opts.EFIBootloader, opts.Arch)
	if err != nil {
		return err
	}
	if sp.kernel == nil || sp.kernelSize == 0 {
		return errors.New("EFI outputs: the rootfs has no boot/kernel")
	}
	initrd, initrdSize, err := sp.fullInitrd(o, base)
	if err != nil {
		return err
	}
	esp, err := efidisk.NewESP(efidisk.Contents{
		Bootloader: opts.EFIBootloader, BootName: bootName,
		Kernel: sp.kernel, KernelSize: sp.kernelSize,
		Initrd: initrd, InitrdSize: initrdSize,
		Cmdline: sp.cmdline,
	})
	if err != nil {
		return fmt.Errorf("EFI outputs: %w", err)
	}

	if want(FormatRawEFI) || want(FormatQcow2EFI) {
		raw, err := o.temp(base + output.SuffixRawEFI)
		if err != nil {
			return err
		}
		size, err := esp.WriteDisk(raw, opts.DiskSize)
		if err != nil {
			return fmt.Errorf("writing %s: %w", base+output.SuffixRawEFI, err)
		}
		if want(FormatRawEFI) {
			o.promote(FormatRawEFI, raw, base+output.SuffixRawEFI)
		}
		if want(FormatQcow2EFI) {
			q, err := o.temp(base + output.SuffixQcow2EFI)
			if err != nil {
				return err
			}
			if _, err := qcow2.Convert(q, raw, size); err != nil {
				return fmt.Errorf("writing %s: %w", base+output.SuffixQcow2EFI, err)
			}
			o.promote(FormatQcow2EFI, q, base+output.SuffixQcow2EFI)
		}
	}
	if want(FormatISOEFI) {
		iso, err := o.temp(base + output.SuffixISOEFI)
		if err != nil {
			return err
		}
		if err := iso9660.Write(iso, esp.FAT, efidisk.ISOVolumeID); err != nil {
			return fmt.Errorf("writing %s: %w", base+output.SuffixISOEFI, err)
		}
		o.promote(FormatISOEFI, iso, base+output.SuffixISOEFI)
	}
	return nil
}
