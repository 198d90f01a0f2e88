// Package download is the fetch stage's one download cache, shared by the
// APK, Debian and Go sources: every upstream file lkpkg keeps on disk
// arrives through Fetch.
//
// The cache is content-addressed: the caller names the final path after
// the checksum it verifies (sha256/<hex> for Debian, the APK Q1 checksum
// for Alpine; the Go module cache keeps the go command's own layout, whose
// names are pinned by go.sum hashes). A file only ever reaches its final
// path verified: it is written to a .part file, synced and renamed. The
// .part file survives an interrupted transfer and is resumed with a Range
// request; a flock on a .lock file makes concurrent fetchers of one file,
// in this process or another, download it once and reuse it.
//
// One policy for a cached file that fails verification (bit rot, a torn
// copy, tampering): it is never trusted; it is reported, removed, fetched
// again and verified again.
//
// The sources also read their upstreams the one way: Get (HTTP, with
// retries and an optional Range), OpenFile (a file:// tree) and ReadAll
// (a bounded read of a small file such as an index).
package download
