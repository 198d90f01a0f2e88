// Package iso9660 writes the ISO 9660 image of the iso-efi output: a FAT
// image (package fat32) as its El Torito EFI boot image (platform 0xEF, no
// emulation), and a directory tree showing the same files, whose extents
// point into the FAT image (its files are contiguous and 2 KiB aligned), so
// nothing is stored twice.
//
// Every date is 1970-01-01 00:00 UTC. Why not go-diskfs' ISO writer: it
// stamps the volume descriptors and the boot catalog with time.Now()
// unconditionally, builds from a copy of the files in a host directory, and
// cannot share extents with the boot image.
package iso9660
