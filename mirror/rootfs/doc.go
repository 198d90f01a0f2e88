// Package debroot installs Debian binary packages into a root filesystem
// natively, the way apko composes Alpine packages: no dpkg, no container,
// no maintainer scripts, and the same input always gives the same bytes.
// It builds the builder images lkpkg then uses as bases for offline
// BuildKit builds.
//
// Install reads each .deb (see mirror/debfile), merges the packages' files
// by dpkg's rules (shared directories, shared identical files, Replaces
// deciding between different ones, any other clash an error), lays them
// out with merged /usr as Debian bookworm does (/bin -> usr/bin, /sbin,
// /lib, /lib64, so /bin/sh lands at /usr/bin/sh), and writes one
// uncompressed tar. It adds the dpkg database (status, info/*.list,
// md5sums, conffiles, scripts), so dpkg -l, dpkg -S, dpkg --verify and SBOM
// scanners see the packages.
//
// # Maintainer scripts
//
// Maintainer scripts are NOT run: there is no shell in an empty root, and
// running them would break determinism. debroot instead does the few
// things their scripts do that toolchain roots rely on:
//
//   - update-alternatives --install (and its --slave links) found in
//     postinst scripts: mawk's /usr/bin/awk, gcc's /usr/bin/cc, cpp's
//     /lib/cpp... The highest priority wins per name, as in auto mode.
//     The links, /etc/alternatives and /var/lib/dpkg/alternatives are made
//     as the tool makes them, and Result.Alternatives lists them.
//   - base-passwd's preinst: /etc/passwd and /etc/group copied from its
//     master files (a root-only pair without base-passwd).
//   - /bin/sh: bookworm's dash ships the link itself; debroot makes it for
//     a dash that does not.
//   - what debootstrap makes before any package: the merged-/usr links,
//     /tmp and /var/tmp (1777), /root (0700), /etc, and empty /dev, /proc,
//     /sys and /run mount points.
//
// Everything else scripts do is skipped: users from adduser, ldconfig's
// cache (glibc finds /usr/lib/<triplet> without it), dpkg-divert,
// debconf, triggers, update-ca-certificates, systemd units. A root that
// needs one of those needs a build step that runs it.
//
// # Safety
//
// Package paths with ".." are refused, and so are device nodes and FIFOs
// (Debian packages ship none). So are the other names a package puts into
// paths: a Package, Version or Architecture outside Debian's syntax (they
// name the files of the dpkg database, info/NAME:ARCH.list), and an
// alternative name that update-alternatives would refuse ("/", blanks,
// "." or ".."; it names /etc/alternatives/NAME). Whatever reaches the
// tree, the tar writer refuses an entry whose name is not a clean
// relative path without "..". Errors name the package and the .deb it
// came from. Every entry of the output lies under real
// directories of the output, never under a symlink, so extracting the tar
// cannot write outside the target directory, whatever the symlinks'
// targets (absolute ones point inside the root once it is used as one).
package rootfs
