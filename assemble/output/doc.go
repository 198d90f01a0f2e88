// Package output is the last stage of assembling an image: the writers that
// turn the root filesystem tar stream into the files `lkpkg build` writes,
// one format a package (cpio, squashfs, fat32, iso9660, efidisk, qcow2).
//
// This package holds what the writers and their readers share: the format
// names, the output file names (`lkpkg run` finds a build's files by the
// same names through qemu.Detect), the tar-name rule every writer applies,
// and small byte helpers. The glue that picks the formats and commits the
// files atomically is assemble.WriteOutputs.
package output
