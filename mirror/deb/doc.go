// Package deb is the Debian source of the mirror stage, a native client for
// Debian archives: it verifies a suite's InRelease against trusted OpenPGP
// keys, downloads Packages indexes and .deb files through mirror/download
// into a content-addressed cache (so a rerun works offline), and
// resolves a set of wanted packages to the closure apt would install on an
// empty root, multi-arch included.
//
// Trust flows one way: VerifyInRelease checks the clearsigned InRelease,
// whose SHA256 list pins every index file, and every Packages stanza pins
// its .deb by SHA256 and size. Nothing is parsed or handed back before the
// bytes it came from have been checked against the level above.
//
// Versions are ordered by CompareVersions, the one dpkg version comparison
// of lkpkg (mirror/rootfs uses it too); deb822 text is tokenized by
// debfile.Scanner.
//
// The resolver is deliberately simpler than apt's: it never backtracks and
// keeps one version per (name, architecture), the highest that satisfies
// the first dependency asking for it. That matches apt on a consistent
// archive and fails loudly, naming the dependency chain, where it does not.
package deb
