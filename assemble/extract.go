package assemble

// Safe flattening of OCI image layers.
//
// Rootfs and Unpack compute the filesystem a container runtime would see for
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
//   - device nodes and fifos follow ExtractOptions.Devices;
//   - files are streamed, never held in memory; a file whose header (logical
//     size for sparse files) exceeds ExtractOptions.MaxFileSize is refused from
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
// through layerOpen, which hashes the compressed stream and checks it against
// the layer's digest and size when it reaches EOF; both passes drain every
// layer they open to EOF. Before a layer is decompressed at all, its whole
// compressed blob is hashed once per extraction (layerPrecheck, remembered by
// digest), so a blob that does not match never reaches a decompressor.
// Decompression is go-containerregistry's (partial.CompressedToLayer). A blob
// that changes between the check and a read is caught at its EOF, after some
// of its data may have been written: on any error the output (tw's stream, or
// dir) must be discarded.

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"
)

// Values of ExtractOptions.Devices, the rule for character devices, block
// devices and fifos found in a layer.
const (
	// DevicesKeep (the default, "") keeps them as they are in the image. This
	// is what LinuxKit does: `linuxkit build` copies image contents through
	// without dropping device nodes, and an init image's /dev/console matters
	// before devtmpfs is mounted (the kernel opens it for init's stdio). In a
	// container rootfs they are harmless: runc mounts its own /dev. For tar
	// output a node is only a header; Unpack needs CAP_MKNOD for it (use
	// DevicesSkip when unpacking without root).
	DevicesKeep = "keep"
	// DevicesSkip leaves them out: the path is absent from the result, as if
	// the layer had deleted it.
	DevicesSkip = "skip"
	// DevicesError refuses an image that contains one.
	DevicesError = "error"
)

// DefaultMaxFileSize is the largest file (logical size) accepted when
// ExtractOptions.MaxFileSize is 0.
const DefaultMaxFileSize int64 = 4 << 30

// ExtractOptions tunes Rootfs and Unpack. The zero value is the default.
type ExtractOptions struct {
	// Devices is DevicesKeep (or ""), DevicesSkip or DevicesError.
	Devices string
	// MaxFileSize is the largest logical file size accepted, in bytes; 0 means
	// DefaultMaxFileSize.
	MaxFileSize int64
}

// Errors wrapped by ExtractError, for errors.Is.
var (
	ErrUnsafePath       = errors.New("path escapes the root")
	ErrThroughSymlink   = errors.New("path goes through a symlink")
	ErrNotDir           = errors.New("parent is not a directory")
	ErrBadHardlink      = errors.New("bad hard link")
	ErrDevice           = errors.New("device node or fifo refused")
	ErrFileTooLarge     = errors.New("file too large")
	ErrUnsupportedEntry = errors.New("unsupported tar entry")
	ErrLayerDigest      = errors.New("layer content does not match its digest")
)

// ExtractError is the error Rootfs and Unpack return for a refused entry or an
// unreadable layer. It names the layer by digest (and position, bottom = 0)
// and, where there is one, the entry by its name in that layer.
type ExtractError struct {
	Layer v1.Hash
	Index int
	Entry string
	Err   error
}

func (e *ExtractError) Error() string {
	if e.Entry == "" {
		return fmt.Sprintf("layer %d (%s): %v", e.Index, e.Layer, e.Err)
	}
	return fmt.Sprintf("layer %d (%s): entry %q: %v", e.Index, e.Layer, e.Entry, e.Err)
}

func (e *ExtractError) Unwrap() error { return e.Err }

// Rootfs writes the flattened filesystem of img (all layers applied in order,
// whiteouts ".wh.NAME" and opaque markers ".wh..wh..opq" honoured) as tar
// entries under prefix (e.g. "containers/services/getty/rootfs/", or "" for
// an init image flattened into /) into tw. tw is not closed.
//
// Output is deterministic: entries come in walk order (depth first, siblings
// sorted by name, parents before children), in PAX format, with the layers'
// mode (permission, setuid/setgid/sticky bits), uid/gid, user/group names,
// modification times and xattrs (SCHILY.xattr.*); access/change times and
// other PAX records are dropped. The root directory itself is not written, nor
// are the prefix's directories. Directories an entry needs but no layer
// declares are written as 0755 root:root with modification time 0 (Unix
// epoch). A group of hard links is written as one regular file (the first name
// in walk order) followed by links to it; a file whose link target was later
// deleted or replaced becomes that regular file itself, as with overlayfs.
//
// The safety rules are in the package comment above; a refused entry is
// reported as an *ExtractError. On error, what was written to tw is invalid.
func Rootfs(tw *tar.Writer, prefix string, img v1.Image, opts ExtractOptions) error {
	prefix, err := layerPrefix(prefix)
	if err != nil {
		return err
	}
	t, err := extractFlatten(img, opts)
	if err != nil {
		return err
	}
	cr := t.contentReader()
	defer cr.close()
	for _, e := range t.emitOrder() {
		h := e.header()
		h.Name = prefix + h.Name
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		if h.Typeflag == tar.TypeLink {
			h.Linkname = prefix + h.Linkname
		}
		if err := tw.WriteHeader(h); err != nil {
			return t.errorf(e.node.layer, e.node.raw, "writing tar header: %w", err)
		}
		if h.Typeflag != tar.TypeReg || h.Size == 0 {
			continue
		}
		if err := cr.copyTo(e.node.content, func(r io.Reader) error {
			_, err := io.CopyN(tw, r, h.Size)
			return err
		}); err != nil {
			return err
		}
	}
	return cr.finish()
}

// Unpack writes the flattened tree of img (as Rootfs would, without a prefix)
// into dir, which must be empty or absent (it is created). All writes go
// through an os.Root on dir, so nothing can land outside dir even if the tree
// is changed under it concurrently; the same rules as Rootfs apply before
// anything is written. Regular files are written hole-preserving (all-zero
// 64 KiB blocks are skipped), so sparse files stay sparse. Ownership and xattrs
// (regular files and directories) are applied only when running as root;
// modes and modification times always. On error dir holds a partial tree and
// should be removed.
func Unpack(dir string, img v1.Image, opts ExtractOptions) error {
	t, err := extractFlatten(img, opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := layerCheckEmpty(root); err != nil {
		return fmt.Errorf("unpack into %s: %w", dir, err)
	}
	u := &layerUnpacker{t: t, root: root, owner: os.Geteuid() == 0, cr: t.contentReader()}
	defer u.cr.close()
	var dirs []layerEmit
	for _, e := range t.emitOrder() {
		if err := u.write(e); err != nil {
			return t.errorf(e.node.layer, e.node.raw, "unpacking %s: %w", e.name, err)
		}
		if e.node.hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, e)
		}
	}
	// Directory metadata last, deepest first: writing children changes mtimes
	// and a read-only directory would have blocked them.
	for i := len(dirs) - 1; i >= 0; i-- {
		e := dirs[i]
		if err := u.meta(e.name, e.node.hdr, true); err != nil {
			return t.errorf(e.node.layer, e.node.raw, "unpacking %s: %w", e.name, err)
		}
	}
	return u.cr.finish()
}

// --- pass 1: the flattened tree -------------------------------------------

// layerNode is one path of the flattened tree.
type layerNode struct {
	hdr      *tar.Header           // sanitised; Name is the cleaned relative name
	children map[string]*layerNode // directories only
	content  *layerContent         // regular files and hard links
	layer    int                   // layer that placed it; -1 if synthesised
	raw      string                // its name in that layer, for errors
}

// layerContent is a regular file's data: where it sits in which layer. Hard
// links share their target's layerContent.
type layerContent struct {
	hdr   *tar.Header // the regular file's header (metadata of the inode)
	layer int
	ord   int    // position of the entry in the layer's tar stream
	raw   string // raw name there, rechecked in pass 2

	head    string // set while emitting: the name written as the regular file
	pending bool   // data still to be written
	spooled bool
	off     int64 // offset in the spool
}

type layerRef struct {
	l      v1.Layer
	digest v1.Hash
}

type extractTree struct {
	root   *layerNode
	layers []layerRef
	opts   ExtractOptions
	byPos  map[[2]int]*layerContent

	// prechecked holds the digests whose blob passed layerPrecheck in this
	// extraction: each blob is prechecked once, not on every open.
	prechecked map[v1.Hash]bool
}

func (t *extractTree) errorf(layer int, entry string, format string, a ...any) error {
	e := &ExtractError{Index: layer, Entry: entry, Err: fmt.Errorf(format, a...)}
	if layer >= 0 && layer < len(t.layers) {
		e.Layer = t.layers[layer].digest
	}
	return e
}

func layerWrap(sentinel error, format string, a ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, a...))
}

func extractFlatten(img v1.Image, opts ExtractOptions) (*extractTree, error) {
	switch opts.Devices {
	case "":
		opts.Devices = DevicesKeep
	case DevicesKeep, DevicesSkip, DevicesError:
	default:
		return nil, fmt.Errorf("assemble: unknown Devices rule %q (want %q, %q or %q)", opts.Devices, DevicesKeep, DevicesSkip, DevicesError)
	}
	if opts.MaxFileSize == 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.MaxFileSize < 0 {
		return nil, fmt.Errorf("assemble: negative MaxFileSize %d", opts.MaxFileSize)
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("assemble: image layers: %w", err)
	}
	t := &extractTree{
		root:       &layerNode{hdr: &tar.Header{Typeflag: tar.TypeDir, Name: "."}, children: map[string]*layerNode{}, layer: -1},
		opts:       opts,
		byPos:      map[[2]int]*layerContent{},
		prechecked: map[v1.Hash]bool{},
	}
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			return nil, fmt.Errorf("assemble: layer digest: %w", err)
		}
		t.layers = append(t.layers, layerRef{l: l, digest: d})
	}
	for i := range t.layers {
		if err := t.applyLayer(i); err != nil {
			return nil, err
		}
	}
	return t, nil
}

type layerEntry struct {
	hdr *tar.Header
	ord int
}

// applyLayer reads layer i's headers (skipping data) and applies them: first
// its whiteouts, which by the OCI spec only hide lower layers, then its
// entries in tar order.
func (t *extractTree) applyLayer(i int) error {
	rc, v, err := t.openLayer(i)
	if err != nil {
		return t.errorf(i, "", "opening layer: %w", err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var entries []layerEntry
	for ord := 0; ; ord++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		// ErrInsecurePath (GODEBUG tarinsecurepath=0) comes with a usable
		// header; the name checks below are ours.
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return t.errorf(i, "", "reading layer: %w", err)
		}
		// Refuse oversize files from the header alone: Next skips their data
		// (and only the stored fragments of a sparse file) without reading it
		// into memory.
		if layerIsRegular(hdr.Typeflag) && hdr.Size > t.opts.MaxFileSize {
			return t.errorf(i, hdr.Name, "%w: %d bytes, limit %d", ErrFileTooLarge, hdr.Size, t.opts.MaxFileSize)
		}
		entries = append(entries, layerEntry{hdr: hdr, ord: ord})
	}
	if err := layerDrain(rc, v); err != nil {
		return t.errorf(i, "", "%w", err)
	}

	var adds []layerEntry
	for _, e := range entries {
		name, err := layerCleanName(e.hdr.Name)
		if err != nil {
			return t.errorf(i, e.hdr.Name, "%w", err)
		}
		base := path.Base(name)
		switch {
		case base == ".wh..wh..opq":
			if err := t.opaque(path.Dir(name)); err != nil {
				return t.errorf(i, e.hdr.Name, "opaque whiteout: %w", err)
			}
		case strings.HasPrefix(base, ".wh..wh."):
			// AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): ignored, as by
			// Docker and containerd.
		case strings.HasPrefix(base, ".wh."):
			victim := base[len(".wh."):]
			if victim == "" || victim == "." || victim == ".." {
				return t.errorf(i, e.hdr.Name, "%w: whiteout of %q", ErrUnsafePath, victim)
			}
			if err := t.remove(path.Join(path.Dir(name), victim)); err != nil {
				return t.errorf(i, e.hdr.Name, "whiteout: %w", err)
			}
		default:
			adds = append(adds, e)
		}
	}
	for _, e := range adds {
		if err := t.add(i, e); err != nil {
			return t.errorf(i, e.hdr.Name, "%w", err)
		}
	}
	return nil
}

// layerCleanName cleans a tar name to a relative slash path ("." is the root).
func layerCleanName(name string) (string, error) {
	if name == "" {
		return "", layerWrap(ErrUnsafePath, "empty name")
	}
	if strings.HasPrefix(name, "/") {
		c := strings.TrimLeft(path.Clean(name), "/")
		if c == "" {
			c = "."
		}
		return c, nil
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", layerWrap(ErrUnsafePath, "%q cleans to %q", name, c)
	}
	return c, nil
}

func layerIsRegular(tf byte) bool {
	return tf == tar.TypeReg || tf == tar.TypeRegA || tf == tar.TypeGNUSparse
}

func layerIsDevice(tf byte) bool {
	return tf == tar.TypeChar || tf == tar.TypeBlock || tf == tar.TypeFifo
}

// lookupDir walks to directory dir ("." is the root). It returns nil if some
// component does not exist (or create is set and it was created), and refuses
// symlinks and non-directories on the way.
func (t *extractTree) lookupDir(dir string, create bool) (*layerNode, error) {
	n := t.root
	if dir == "." {
		return n, nil
	}
	walked := ""
	for _, c := range strings.Split(dir, "/") {
		walked = path.Join(walked, c)
		next := n.children[c]
		switch {
		case next == nil && create:
			next = &layerNode{
				hdr:      &tar.Header{Typeflag: tar.TypeDir, Name: walked, Mode: 0o755, ModTime: time.Unix(0, 0), Format: tar.FormatPAX},
				children: map[string]*layerNode{},
				layer:    -1,
			}
			n.children[c] = next
		case next == nil:
			return nil, nil
		case next.hdr.Typeflag == tar.TypeSymlink:
			return nil, layerWrap(ErrThroughSymlink, "%s is a symlink to %q", walked, next.hdr.Linkname)
		case next.hdr.Typeflag != tar.TypeDir:
			return nil, layerWrap(ErrNotDir, "%s", walked)
		}
		n = next
	}
	return n, nil
}

func (t *extractTree) lookup(name string) (*layerNode, error) {
	if name == "." {
		return t.root, nil
	}
	d, err := t.lookupDir(path.Dir(name), false)
	if d == nil || err != nil {
		return nil, err
	}
	return d.children[path.Base(name)], nil
}

// remove deletes name and everything below it (a whiteout).
func (t *extractTree) remove(name string) error {
	d, err := t.lookupDir(path.Dir(name), false)
	if d != nil {
		delete(d.children, path.Base(name))
	}
	return err
}

// opaque empties directory dir of what lower layers put there.
func (t *extractTree) opaque(dir string) error {
	n, err := t.lookup(dir)
	if err != nil {
		return err
	}
	switch {
	case n == nil:
	case n.hdr.Typeflag == tar.TypeDir:
		n.children = map[string]*layerNode{}
	case n.hdr.Typeflag == tar.TypeSymlink:
		return layerWrap(ErrThroughSymlink, "%s is a symlink to %q", dir, n.hdr.Linkname)
	}
	return nil
}

// layerSanitize keeps what the output carries of a header: type, name, link,
// size (regular files), mode bits, ownership, mtime, device numbers, xattrs.
func layerSanitize(hdr *tar.Header, name string) *tar.Header {
	h := &tar.Header{
		Typeflag: hdr.Typeflag,
		Name:     name,
		Mode:     hdr.Mode & 0o7777,
		Uid:      hdr.Uid,
		Gid:      hdr.Gid,
		Uname:    hdr.Uname,
		Gname:    hdr.Gname,
		ModTime:  hdr.ModTime,
		Format:   tar.FormatPAX,
	}
	switch {
	case layerIsRegular(hdr.Typeflag):
		h.Typeflag = tar.TypeReg
		h.Size = hdr.Size
	case hdr.Typeflag == tar.TypeSymlink:
		h.Linkname = hdr.Linkname
	case hdr.Typeflag == tar.TypeChar || hdr.Typeflag == tar.TypeBlock:
		h.Devmajor, h.Devminor = hdr.Devmajor, hdr.Devminor
	}
	for k, v := range hdr.PAXRecords {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			if h.PAXRecords == nil {
				h.PAXRecords = map[string]string{}
			}
			h.PAXRecords[k] = v
		}
	}
	return h
}

// add places one (non-whiteout) entry of layer li in the tree.
func (t *extractTree) add(li int, e layerEntry) error {
	hdr := e.hdr
	name, _ := layerCleanName(hdr.Name) // already checked
	tf := hdr.Typeflag
	if name == "." {
		if tf == tar.TypeDir {
			return nil // the root's own metadata is not part of the output
		}
		return layerWrap(ErrUnsupportedEntry, "non-directory %q at the root", string(tf))
	}
	n := &layerNode{layer: li, raw: hdr.Name}
	switch {
	case layerIsRegular(tf):
		n.hdr = layerSanitize(hdr, name)
		n.content = &layerContent{hdr: n.hdr, layer: li, ord: e.ord, raw: hdr.Name}
		t.byPos[[2]int{li, e.ord}] = n.content
	case tf == tar.TypeDir:
		n.hdr = layerSanitize(hdr, name)
		n.children = map[string]*layerNode{}
	case tf == tar.TypeSymlink:
		if hdr.Linkname == "" {
			return layerWrap(ErrUnsupportedEntry, "symlink with an empty target")
		}
		n.hdr = layerSanitize(hdr, name)
	case tf == tar.TypeLink:
		target, err := layerCleanName(hdr.Linkname)
		if err != nil {
			return layerWrap(ErrBadHardlink, "target %q: %v", hdr.Linkname, err)
		}
		tn, err := t.lookup(target)
		if err != nil {
			return layerWrap(ErrBadHardlink, "target %q: %v", hdr.Linkname, err)
		}
		if tn == nil {
			return layerWrap(ErrBadHardlink, "target %q is not in the image", hdr.Linkname)
		}
		if tn.content == nil {
			return layerWrap(ErrBadHardlink, "target %q is not a regular file (type %q)", hdr.Linkname, string(tn.hdr.Typeflag))
		}
		n.content = tn.content
		n.hdr = &tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Format: tar.FormatPAX}
	case layerIsDevice(tf):
		switch t.opts.Devices {
		case DevicesError:
			return layerWrap(ErrDevice, "type %q (Devices rule %q)", string(tf), t.opts.Devices)
		case DevicesSkip:
			return t.remove(name)
		}
		n.hdr = layerSanitize(hdr, name)
	default:
		return layerWrap(ErrUnsupportedEntry, "type %q", string(tf))
	}

	parent, err := t.lookupDir(path.Dir(name), true)
	if err != nil {
		return err
	}
	base := path.Base(name)
	if old := parent.children[base]; old != nil && old.hdr.Typeflag == tar.TypeDir && tf == tar.TypeDir {
		// A directory over a directory merges: new metadata, same contents.
		old.hdr, old.layer, old.raw = n.hdr, n.layer, n.raw
		return nil
	}
	// Anything else replaces the old entry and, for a directory, all below.
	parent.children[base] = n
	return nil
}

// layerEmit is one entry of the output, in order.
type layerEmit struct {
	name string
	node *layerNode
	link string // for a hard link: the name written as the regular file
}

// emitOrder lists the tree depth first with sorted siblings and decides, for
// each group of hard links, which name carries the data.
func (t *extractTree) emitOrder() []layerEmit {
	var out []layerEmit
	var walk func(n *layerNode)
	walk = func(n *layerNode) {
		names := make([]string, 0, len(n.children))
		for k := range n.children {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			c := n.children[k]
			e := layerEmit{name: c.hdr.Name, node: c}
			if c.content != nil {
				if c.content.head == "" {
					c.content.head = e.name
					c.content.pending = c.content.hdr.Size > 0
				} else {
					e.link = c.content.head
				}
			}
			out = append(out, e)
			if c.hdr.Typeflag == tar.TypeDir {
				walk(c)
			}
		}
	}
	walk(t.root)
	return out
}

// header is the tar header written for e (without prefix).
func (e layerEmit) header() *tar.Header {
	n := e.node
	if n.content == nil {
		h := *n.hdr
		return &h
	}
	h := *n.content.hdr
	h.Name = e.name
	h.PAXRecords = layerCopyMap(h.PAXRecords)
	if e.link != "" {
		h.Typeflag = tar.TypeLink
		h.Linkname = e.link
		h.Size = 0
	}
	return &h
}

func layerCopyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// --- reading layers ---------------------------------------------------------

// layerVerifier hashes a compressed layer stream and checks digest and size
// at EOF (see the package comment for why).
type layerVerifier struct {
	rc   io.ReadCloser
	h    hash.Hash
	want v1.Hash
	size int64
	n    int64
	ok   bool
}

func (v *layerVerifier) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.size {
		return n, layerWrap(ErrLayerDigest, "more than %d bytes", v.size)
	}
	if err == io.EOF {
		got := v1.Hash{Algorithm: v.want.Algorithm, Hex: fmt.Sprintf("%x", v.h.Sum(nil))}
		if v.n != v.size || got != v.want {
			return n, layerWrap(ErrLayerDigest, "got %s (%d bytes), want %s (%d bytes)", got, v.n, v.want, v.size)
		}
		v.ok = true
	}
	return n, err
}

func (v *layerVerifier) Close() error { return v.rc.Close() }

// layerVerified presents a layer's compressed blob through a layerVerifier to
// partial.CompressedToLayer, which does the decompression.
type layerVerified struct {
	l    v1.Layer
	last *layerVerifier
}

func (b *layerVerified) Digest() (v1.Hash, error)            { return b.l.Digest() }
func (b *layerVerified) Size() (int64, error)                { return b.l.Size() }
func (b *layerVerified) MediaType() (types.MediaType, error) { return b.l.MediaType() }
func (b *layerVerified) Compressed() (io.ReadCloser, error) {
	d, err := b.l.Digest()
	if err != nil {
		return nil, err
	}
	size, err := b.l.Size()
	if err != nil {
		return nil, err
	}
	h, err := v1.Hasher(d.Algorithm)
	if err != nil {
		return nil, err
	}
	rc, err := b.l.Compressed()
	if err != nil {
		return nil, err
	}
	b.last = &layerVerifier{rc: rc, h: h, want: d, size: size}
	return b.last, nil
}

// layerPrecheck reads l's whole compressed blob and checks its digest and
// size, so that no decompressor ever sees bytes that do not match: a hostile
// gzip or zstd stream is refused before it is parsed.
func layerPrecheck(l v1.Layer) error {
	b := &layerVerified{l: l}
	rc, err := b.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return err
	}
	if !b.last.ok {
		return layerWrap(ErrLayerDigest, "stream ended without verification")
	}
	return nil
}

// openLayer returns the uncompressed stream of layer i (layerOpen), after
// layerPrecheck the first time its digest is opened in this extraction: the
// two passes read each blob three times in all (the check, then once each),
// not twice per pass (a download each, for a remote image).
func (t *extractTree) openLayer(i int) (io.ReadCloser, *layerVerifier, error) {
	ref := t.layers[i]
	if !t.prechecked[ref.digest] {
		if err := layerPrecheck(ref.l); err != nil {
			return nil, nil, err
		}
		t.prechecked[ref.digest] = true
	}
	return layerOpen(ref.l)
}

// layerOpen returns the uncompressed stream of l, read through a verifier of
// its compressed digest; layerPrecheck must have passed first (openLayer).
// The stream is verified again as it is read, on every open, so bytes that
// change after the check are caught at EOF.
func layerOpen(l v1.Layer) (io.ReadCloser, *layerVerifier, error) {
	b := &layerVerified{l: l}
	vl, err := partial.CompressedToLayer(b)
	if err != nil {
		return nil, nil, err
	}
	rc, err := vl.Uncompressed()
	if err != nil {
		if b.last != nil {
			b.last.Close()
		}
		return nil, nil, err
	}
	return rc, b.last, nil
}

// layerDrain reads the rest of a layer (trailing tar padding, the end of the
// compressed stream) so that its digest is checked.
func layerDrain(rc io.Reader, v *layerVerifier) error {
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("reading layer: %w", err)
	}
	if v == nil {
		return errors.New("reading layer: no verifier")
	}
	if _, err := io.Copy(io.Discard, v); err != nil {
		return err
	}
	if !v.ok {
		return layerWrap(ErrLayerDigest, "stream ended without verification")
	}
	return nil
}

// --- pass 2: data -------------------------------------------------------------

type layerCursor struct {
	rc   io.ReadCloser
	v    *layerVerifier
	tr   *tar.Reader
	next int // ordinal of the next entry Next returns
}

// layerContentReader hands out file data in any order while reading each layer
// once, front to back. Data that is passed over but still needed is spooled.
type layerContentReader struct {
	t       *extractTree
	cursors map[int]*layerCursor
	spool   *os.File
	end     int64
}

func (t *extractTree) contentReader() *layerContentReader {
	return &layerContentReader{t: t, cursors: map[int]*layerCursor{}}
}

// copyTo calls fn with a reader of exactly c's data.
func (r *layerContentReader) copyTo(c *layerContent, fn func(io.Reader) error) error {
	fail := func(err error) error { return r.t.errorf(c.layer, c.raw, "%w", err) }
	if !c.pending {
		return fail(errors.New("internal error: data already written"))
	}
	c.pending = false
	if c.spooled {
		if err := fn(io.NewSectionReader(r.spool, c.off, c.hdr.Size)); err != nil {
			return fail(err)
		}
		return nil
	}
	cur, err := r.cursor(c.layer)
	if err != nil {
		return fail(err)
	}
	if cur.next > c.ord {
		return fail(errors.New("internal error: data passed over and not spooled"))
	}
	for {
		hdr, err := cur.tr.Next()
		ord := cur.next
		cur.next++
		if err == io.EOF {
			return fail(errors.New("layer changed between reads: entry missing"))
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return fail(fmt.Errorf("reading layer: %w", err))
		}
		if ord == c.ord {
			if err := layerSame(hdr, c); err != nil {
				return fail(err)
			}
			if err := fn(cur.tr); err != nil {
				return fail(err)
			}
			return nil
		}
		if o := r.t.byPos[[2]int{c.layer, ord}]; o != nil && o.pending && !o.spooled {
			if err := layerSame(hdr, o); err != nil {
				return r.t.errorf(o.layer, o.raw, "%w", err)
			}
			if err := r.toSpool(o, cur.tr); err != nil {
				return r.t.errorf(o.layer, o.raw, "spooling: %w", err)
			}
		}
	}
}

func layerSame(hdr *tar.Header, c *layerContent) error {
	if hdr.Name != c.raw || hdr.Size != c.hdr.Size || !layerIsRegular(hdr.Typeflag) {
		return fmt.Errorf("layer changed between reads: got %q (%d bytes)", hdr.Name, hdr.Size)
	}
	return nil
}

func (r *layerContentReader) cursor(i int) (*layerCursor, error) {
	if c := r.cursors[i]; c != nil {
		return c, nil
	}
	rc, v, err := r.t.openLayer(i)
	if err != nil {
		return nil, err
	}
	c := &layerCursor{rc: rc, v: v, tr: tar.NewReader(rc)}
	r.cursors[i] = c
	return c, nil
}

func (r *layerContentReader) toSpool(c *layerContent, src io.Reader) error {
	if r.spool == nil {
		f, err := os.CreateTemp("", "lkpkg-assemble-spool-")
		if err != nil {
			return err
		}
		os.Remove(f.Name()) // anonymous: gone when closed
		r.spool = f
	}
	if err := layerSparseCopy(r.spool, r.end, src, c.hdr.Size); err != nil {
		return err
	}
	c.spooled, c.off = true, r.end
	r.end += c.hdr.Size
	return r.spool.Truncate(r.end) // trailing holes read as zeros
}

// finish drains every layer opened in pass 2 to verify its digest.
func (r *layerContentReader) finish() error {
	idx := make([]int, 0, len(r.cursors))
	for i := range r.cursors {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		c := r.cursors[i]
		if err := layerDrain(c.rc, c.v); err != nil {
			return r.t.errorf(i, "", "%w", err)
		}
	}
	return nil
}

func (r *layerContentReader) close() {
	for _, c := range r.cursors {
		c.rc.Close()
	}
	r.cursors = map[int]*layerCursor{}
	if r.spool != nil {
		r.spool.Close()
		r.spool = nil
	}
}

const layerBlock = 64 << 10

// layerSparseCopy copies exactly n bytes from src to f at off, leaving
// all-zero blocks as holes. The caller sets the final size (Truncate).
func layerSparseCopy(f *os.File, off int64, src io.Reader, n int64) error {
	buf := make([]byte, layerBlock)
	for n > 0 {
		k := int64(len(buf))
		if n < k {
			k = n
		}
		if _, err := io.ReadFull(src, buf[:k]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if !layerZero(buf[:k]) {
			if _, err := f.WriteAt(buf[:k], off); err != nil {
				return err
			}
		}
		off += k
		n -= k
	}
	return nil
}

var layerZeroBlock = make([]byte, layerBlock)

func layerZero(b []byte) bool { return bytes.Equal(b, layerZeroBlock[:len(b)]) }

// layerPrefix checks and normalises Rootfs's prefix: "" or a relative
// directory, returned with a trailing slash.
func layerPrefix(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	c := path.Clean(p)
	if path.IsAbs(p) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("assemble: prefix %q must be a relative path inside the image", p)
	}
	if c == "." {
		return "", nil
	}
	return c + "/", nil
}

// --- Unpack -------------------------------------------------------------------

type layerUnpacker struct {
	t     *extractTree
	root  *os.Root
	owner bool // running as root: apply ownership and xattrs
	cr    *layerContentReader
}

func layerCheckEmpty(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if err != nil && err != io.EOF {
		return err
	}
	if len(names) > 0 {
		return errors.New("directory is not empty")
	}
	return nil
}

func (u *layerUnpacker) write(e layerEmit) error {
	h := e.header()
	switch {
	case h.Typeflag == tar.TypeDir:
		// Created private; mode, owner and times are set at the end.
		return u.root.Mkdir(e.name, 0o700)
	case h.Typeflag == tar.TypeLink:
		return u.root.Link(h.Linkname, e.name)
	case h.Typeflag == tar.TypeSymlink:
		if err := u.root.Symlink(h.Linkname, e.name); err != nil {
			return err
		}
		return u.meta(e.name, h, false)
	case h.Typeflag == tar.TypeReg:
		// O_EXCL: never open something already there (such as a symlink).
		f, err := u.root.OpenFile(e.name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if h.Size > 0 {
			err = u.cr.copyTo(e.node.content, func(r io.Reader) error {
				if err := layerSparseCopy(f, 0, r, h.Size); err != nil {
					return err
				}
				return f.Truncate(h.Size)
			})
		}
		if err == nil && u.owner {
			err = layerSetXattrs(f, h)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		return u.meta(e.name, h, false)
	case layerIsDevice(h.Typeflag):
		mode := uint32(unix.S_IFIFO)
		switch h.Typeflag {
		case tar.TypeChar:
			mode = unix.S_IFCHR
		case tar.TypeBlock:
			mode = unix.S_IFBLK
		}
		dev := unix.Mkdev(uint32(h.Devmajor), uint32(h.Devminor))
		err := layerAt(u.root, e.name, func(fd int, base string) error {
			return unix.Mknodat(fd, base, mode|0o600, int(dev))
		})
		if err != nil {
			return fmt.Errorf("%w (unpacking device nodes needs CAP_MKNOD; use Devices %q)", err, DevicesSkip)
		}
		return u.meta(e.name, h, false)
	}
	return layerWrap(ErrUnsupportedEntry, "type %q", string(h.Typeflag))
}

// meta applies ownership (as root), mode and mtime to name, never following
// a final symlink.
func (u *layerUnpacker) meta(name string, h *tar.Header, dir bool) error {
	if u.owner {
		if err := u.root.Lchown(name, h.Uid, h.Gid); err != nil {
			return err
		}
		if dir {
			d, err := u.root.Open(name)
			if err != nil {
				return err
			}
			err = layerSetXattrs(d, h)
			d.Close()
			if err != nil {
				return err
			}
		}
	}
	if h.Typeflag != tar.TypeSymlink {
		// After chown, which clears setuid/setgid.
		if err := u.root.Chmod(name, layerFileMode(h.Mode)); err != nil {
			return err
		}
	}
	ts := unix.NsecToTimespec(h.ModTime.UnixNano())
	return layerAt(u.root, name, func(fd int, base string) error {
		return unix.UtimesNanoAt(fd, base, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	})
}

// layerAt runs fn on the parent directory of name, opened through root, and
// name's last component.
func layerAt(root *os.Root, name string, fn func(fd int, base string) error) error {
	d, err := root.Open(path.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(int(d.Fd()), path.Base(name))
}

func layerFileMode(m int64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

func layerSetXattrs(f *os.File, h *tar.Header) error {
	keys := make([]string, 0, len(h.PAXRecords))
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		attr := strings.TrimPrefix(k, "SCHILY.xattr.")
		if err := unix.Fsetxattr(int(f.Fd()), attr, []byte(h.PAXRecords[k]), 0); err != nil {
			return fmt.Errorf("setting xattr %s: %w", attr, err)
		}
	}
	return nil
}
