// Package debfile reads Debian binary packages (.deb files) without dpkg,
// for the mirror stage's root filesystems. Its Scanner is the one deb822
// (control file) tokenizer, shared with the archive client mirror/deb.
//
// A .deb is an ar archive of three members, in this order:
//
//	debian-binary    "2.0\n": the format version
//	control.tar[.gz|.xz|.zst]                  control file, maintainer scripts, md5sums...
//	data.tar[.gz|.xz|.zst|.bz2|.lzma]         the files to install
//
// Members whose name starts with "_" (signatures added by tools such as
// debsigs) may sit between them and are ignored, as dpkg-deb does.
//
// Open reads the small control member eagerly and remembers where the data
// member is, so Data can stream it any number of times from the same
// io.ReaderAt without holding the package's files in memory.
//
// The package does not verify anything: callers check the .deb's checksum
// against a signed repository index before opening it.
package debfile
