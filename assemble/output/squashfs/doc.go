// Package squashfs writes squashfs 4.0 images from tar entries, for the
// kernel+squashfs output (LinuxKit's mkimage-squashfs runs mksquashfs on the
// rootfs minus boot/).
//
// Why not go-diskfs' squashfs: it builds from a directory tree on the host
// (so owners and device nodes would need root and an extraction, and host
// mtimes leak in), and it stamps the superblock with time.Now(). This writer
// takes everything from the tar headers instead, in one pass:
//
//   - data blocks of 128 KiB, compressed with zlib ("gzip", compression id 1,
//     as mksquashfs' default) by GOMAXPROCS workers and written in stream
//     order, so the bytes do not depend on scheduling; a block that does not
//     shrink is stored raw, an all-zero block is a sparse (size 0) block;
//   - files shorter than a block go into shared fragment blocks, the tail of
//     longer files is a short last block (mksquashfs' defaults);
//   - inodes and directories are written when the stream ends: a later
//     entry for the same path replaces the earlier one (as when a tar is
//     extracted), hard links share one inode with its link count, missing
//     parent directories are root:root 0755 with mtime 0 (as the initrd's);
//   - inode numbers follow mksquashfs' order (a directory's entries, sorted
//     by name, depth first, then the directory; the root is last); uids and
//     gids go into the id table in ascending order; the superblock's mtime
//     is 0; no xattrs, no export table, no duplicate detection; the image is
//     zero padded to 4 KiB as mksquashfs does.
//
// Tar data is read once; only the inode and directory tables (some tens of
// bytes per entry) are held in memory.
package squashfs
