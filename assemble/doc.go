// Package assemble builds LinuxKit-style OS images from an image YAML file
// (`lkpkg build IMAGE.yml`, like `linuxkit build`): it pins every image to a
// digest, verifies signatures before any content is read, composes the root
// filesystem and hands it to the output writers.
//
// The stages live in subpackages, in pipeline order:
//
//   - layer: flattens an image's layers into a tree, confined to it;
//   - ociruntime: writes each container's OCI bundle (config.json, rootfs);
//   - output: the boot outputs (tar, kernel+initrd, squashfs, EFI disks,
//     iso, qcow2), with one writer package per file format below it.
//
// This package holds the image YAML (Image, LoadImage), the lock
// (IMAGE.lock), the trust checks and the composition that joins them.
package assemble
