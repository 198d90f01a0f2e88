// Package efidisk lays out the EFI System Partition of the EFI outputs and
// writes the raw-efi disk: a GPT disk with that ESP as its only partition
// (FAT32, from LBA 2048). The ESP, booted by systemd-boot, holds
//
//	EFI/BOOT/BOOTX64.EFI (or BOOTAA64.EFI)  the bootloader
//	loader/loader.conf                      default lkpkg.conf, timeout 0, editor no
//	loader/entries/lkpkg.conf               title, linux /kernel, initrd /initrd.img, options <cmdline>
//	                                        (see LoaderEntry)
//	kernel                                  boot/kernel
//	initrd.img                              the kernel+initrd output's initrd, byte for byte
//
// The same ESP is the boot image of iso-efi (package iso9660), and the raw
// disk is converted to qcow2-efi by package qcow2.
//
// Determinism: the FAT volume id and the GPT disk and partition GUIDs are
// derived from a SHA-256 of the ESP's paths and contents; the GPT is written
// with go-diskfs, which is deterministic given the GUIDs.
package efidisk
