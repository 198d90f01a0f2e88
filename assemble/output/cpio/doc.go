// Package cpio writes newc ("070701") cpio archives from tar entries: the
// initrd of the kernel+initrd output.
//
// The archive is written as GNU cpio -H newc writes it, and for the Linux
// kernel's initramfs unpacker (init/initramfs.c) to read.
//
// The output depends only on the entries given, in the order given: inode
// numbers are assigned 1, 2, 3... in that order, the archive's own device is
// 0:0, and mtime, uid, gid, mode and rdev come from the tar headers.
//
// Two newc details need to know the whole stream before it is written, which a
// tar stream does not say up front: a hard-link group shares one inode, every
// member carries the group's link count, and only the last member carries the
// data (if the group's first name is replaced while later members are still
// to come, the rest of the group moves to a new inode number: see leave);
// and a directory's link count is 2 plus its subdirectories. Declare
// every entry with Plan first (a header-only pass over the same tar), then
// write them with WriteTarEntry. Without a plan, directories get nlink 2 and a
// hard link to a file already written is an error. The data of a hard-linked
// file is held in memory until its last link comes (an initramfs lives in RAM
// anyway). Parent directories missing from the stream are written just before
// their first child (root:root 0755, mtime 0).
package cpio
