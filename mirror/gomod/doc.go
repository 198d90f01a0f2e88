// Package gomod is the Go source of the mirror stage: it mirrors the
// official Go toolchain and Go module sources from a Go module proxy,
// checked against the Go checksum database, so package builds can compile
// with the network off.
//
// The toolchain is the module golang.org/toolchain@v0.0.1-goX.Y.Z.linux-ARCH,
// the same one `GOTOOLCHAIN=goX.Y.Z` downloads, so it carries go.sum hashes
// in the checksum database like any other module.
//
// The download cache (Client.CacheDir) has the layout of the go command's
// $GOMODCACHE/cache/download, plus the checksum database's state; files
// arrive through mirror/download (verified, locked, fetched again when a
// cached copy fails verification), so it is safe to share between
// processes.
package gomod
