// Package fat32 writes FAT32 file system images, deterministically: the EFI
// System Partition of the EFI outputs (package efidisk), which is also the
// El Torito boot image of iso-efi (package iso9660).
//
// Why not go-diskfs' FAT: it stamps every directory entry (volume label and
// "."/".." included) with time.Now() unless SOURCE_DATE_EPOCH is set in the
// process environment, sets the volume id from the clock or to 0, and cannot
// place files contiguously and aligned, which the ISO's extent sharing
// needs. Here every timestamp is 1980-01-01 00:00 (the FAT epoch), the
// volume id is given, and each file is contiguous and FileAlign aligned.
package fat32
