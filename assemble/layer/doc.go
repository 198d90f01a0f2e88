// Package layer is the safe layer-flattening stage of assemble (and of
// mirror images unpacked on the host).
//
// WriteTar and Unpack compute the filesystem a container runtime would see for
// an image (layers applied bottom to top, OCI whiteouts honoured) and write it
// either as tar entries (for the output image) or to a directory. Every entry
// is checked before anything is written for it, so a hostile layer cannot make
// the result reach outside its root:
//
//   - names are cleaned, absolute names made relative, and a name that climbs
//     out of the root ("..") is refused;
//   - symlinks are kept verbatim (absolute or ".." targets are fine: they resolve
//     inside the final root at runtime) but no entry, whiteout or hard link may
//     be placed or looked up THROUGH a symlink, nor below a non-directory;
//   - hard links must name a regular file already present in the flattened tree
//     (same image, cleaned name); links to missing, outside or non-regular
//     targets are refused;
//   - device nodes and fifos follow Options.Devices;
//   - files are streamed, never held in memory; a file whose header (logical
//     size for sparse files) exceeds Options.MaxFileSize is refused from
//     its header alone, before any of its data is read.
//
// The work is done in two passes. Pass 1 reads every layer's headers (data is
// skipped, holes of sparse files are never expanded) and builds the flattened
// tree in memory: names and metadata only. Pass 2 walks the tree in sorted
// order and copies file data from the layers. Data is read in layer order; a
// file that a layer stores before an entry that sorts earlier (a layer tar not
// in walk order) is spooled to an anonymous temporary file, hole-preserving, so
// layers in walk order (what BuildKit and most tools produce) never spool.
//
// Layer digests: go-containerregistry verifies blobs for remote images, but
// not for a layout on disk (layout.Path's Compressed() is a plain file open, at
// least up to v0.22.1), and the lkpkg cache is a layout. So every layer is read
// through openVerified, which hashes the compressed stream and checks it against
// the layer's digest and size when it reaches EOF; both passes drain every
// layer they open to EOF. Before a layer is decompressed at all, its whole
// compressed blob is hashed once per extraction (precheck, remembered by
// digest), so a blob that does not match never reaches a decompressor.
// Decompression is go-containerregistry's (partial.CompressedToLayer). A blob
// that changes between the check and a read is caught at its EOF, after some
// of its data may have been written: on any error the output (tw's stream, or
// dir) must be discarded.
package layer
