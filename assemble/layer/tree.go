package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"time"
)

// node is one path of the flattened tree.
type node struct {
	hdr      *tar.Header      // sanitised; Name is the cleaned relative name
	children map[string]*node // directories only
	content  *fileData        // regular files and hard links
	layer    int              // layer that placed it; -1 if synthesised
	raw      string           // its name in that layer, for errors
}

// fileData is a regular file's data: where it sits in which layer. Hard
// links share their target's fileData.
type fileData struct {
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

type tree struct {
	root   *node
	layers []layerRef
	opts   Options
	byPos  map[[2]int]*fileData

	// prechecked holds the digests whose blob passed precheck in this
	// extraction: each blob is prechecked once, not on every open.
	prechecked map[v1.Hash]bool
}

func (t *tree) errorf(layer int, entry string, format string, a ...any) error {
	e := &Error{Index: layer, Entry: entry, Err: fmt.Errorf(format, a...)}
	if layer >= 0 && layer < len(t.layers) {
		e.Layer = t.layers[layer].digest
	}
	return e
}

func wrapf(sentinel error, format string, a ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, a...))
}

func flatten(img v1.Image, opts Options) (*tree, error) {
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
	t := &tree{
		root:       &node{hdr: &tar.Header{Typeflag: tar.TypeDir, Name: "."}, children: map[string]*node{}, layer: -1},
		opts:       opts,
		byPos:      map[[2]int]*fileData{},
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

type entry struct {
	hdr *tar.Header
	ord int
}

// applyLayer reads layer i's headers (skipping data) and applies them: first
// its whiteouts, which by the OCI spec only hide lower layers, then its
// entries in tar order.
func (t *tree) applyLayer(i int) error {
	rc, v, err := t.openLayer(i)
	if err != nil {
		return t.errorf(i, "", "opening layer: %w", err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var entries []entry
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
		if isRegular(hdr.Typeflag) && hdr.Size > t.opts.MaxFileSize {
			return t.errorf(i, hdr.Name, "%w: %d bytes, limit %d", ErrFileTooLarge, hdr.Size, t.opts.MaxFileSize)
		}
		entries = append(entries, entry{hdr: hdr, ord: ord})
	}
	if err := drain(rc, v); err != nil {
		return t.errorf(i, "", "%w", err)
	}

	var adds []entry
	for _, e := range entries {
		name, err := cleanName(e.hdr.Name)
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

// cleanName cleans a tar name to a relative slash path ("." is the root).
func cleanName(name string) (string, error) {
	if name == "" {
		return "", wrapf(ErrUnsafePath, "empty name")
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
		return "", wrapf(ErrUnsafePath, "%q cleans to %q", name, c)
	}
	return c, nil
}

func isRegular(tf byte) bool {
	return tf == tar.TypeReg || tf == tar.TypeRegA || tf == tar.TypeGNUSparse
}

func isDevice(tf byte) bool {
	return tf == tar.TypeChar || tf == tar.TypeBlock || tf == tar.TypeFifo
}

// lookupDir walks to directory dir ("." is the root). It returns nil if some
// component does not exist (or create is set and it was created), and refuses
// symlinks and non-directories on the way.
func (t *tree) lookupDir(dir string, create bool) (*node, error) {
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
			next = &node{
				hdr:      &tar.Header{Typeflag: tar.TypeDir, Name: walked, Mode: 0o755, ModTime: time.Unix(0, 0), Format: tar.FormatPAX},
				children: map[string]*node{},
				layer:    -1,
			}
			n.children[c] = next
		case next == nil:
			return nil, nil
		case next.hdr.Typeflag == tar.TypeSymlink:
			return nil, wrapf(ErrThroughSymlink, "%s is a symlink to %q", walked, next.hdr.Linkname)
		case next.hdr.Typeflag != tar.TypeDir:
			return nil, wrapf(ErrNotDir, "%s", walked)
		}
		n = next
	}
	return n, nil
}

func (t *tree) lookup(name string) (*node, error) {
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
func (t *tree) remove(name string) error {
	d, err := t.lookupDir(path.Dir(name), false)
	if d != nil {
		delete(d.children, path.Base(name))
	}
	return err
}

// opaque empties directory dir of what lower layers put there.
func (t *tree) opaque(dir string) error {
	n, err := t.lookup(dir)
	if err != nil {
		return err
	}
	switch {
	case n == nil:
	case n.hdr.Typeflag == tar.TypeDir:
		n.children = map[string]*node{}
	case n.hdr.Typeflag == tar.TypeSymlink:
		return wrapf(ErrThroughSymlink, "%s is a symlink to %q", dir, n.hdr.Linkname)
	}
	return nil
}

// sanitize keeps what the output carries of a header: type, name, link,
// size (regular files), mode bits, ownership, mtime, device numbers, xattrs.
func sanitize(hdr *tar.Header, name string) *tar.Header {
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
	case isRegular(hdr.Typeflag):
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
func (t *tree) add(li int, e entry) error {
	hdr := e.hdr
	name, _ := cleanName(hdr.Name) // already checked
	tf := hdr.Typeflag
	if name == "." {
		if tf == tar.TypeDir {
			return nil // the root's own metadata is not part of the output
		}
		return wrapf(ErrUnsupportedEntry, "non-directory %q at the root", string(tf))
	}
	n := &node{layer: li, raw: hdr.Name}
	switch {
	case isRegular(tf):
		n.hdr = sanitize(hdr, name)
		n.content = &fileData{hdr: n.hdr, layer: li, ord: e.ord, raw: hdr.Name}
		t.byPos[[2]int{li, e.ord}] = n.content
	case tf == tar.TypeDir:
		n.hdr = sanitize(hdr, name)
		n.children = map[string]*node{}
	case tf == tar.TypeSymlink:
		if hdr.Linkname == "" {
			return wrapf(ErrUnsupportedEntry, "symlink with an empty target")
		}
		n.hdr = sanitize(hdr, name)
	case tf == tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return wrapf(ErrBadHardlink, "target %q: %v", hdr.Linkname, err)
		}
		tn, err := t.lookup(target)
		if err != nil {
			return wrapf(ErrBadHardlink, "target %q: %v", hdr.Linkname, err)
		}
		if tn == nil {
			return wrapf(ErrBadHardlink, "target %q is not in the image", hdr.Linkname)
		}
		if tn.content == nil {
			return wrapf(ErrBadHardlink, "target %q is not a regular file (type %q)", hdr.Linkname, string(tn.hdr.Typeflag))
		}
		n.content = tn.content
		n.hdr = &tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Format: tar.FormatPAX}
	case isDevice(tf):
		switch t.opts.Devices {
		case DevicesError:
			return wrapf(ErrDevice, "type %q (Devices rule %q)", string(tf), t.opts.Devices)
		case DevicesSkip:
			return t.remove(name)
		}
		n.hdr = sanitize(hdr, name)
	default:
		return wrapf(ErrUnsupportedEntry, "type %q", string(tf))
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

// emitEntry is one entry of the output, in order.
type emitEntry struct {
	name string
	node *node
	link string // for a hard link: the name written as the regular file
}

// emitOrder lists the tree depth first with sorted siblings and decides, for
// each group of hard links, which name carries the data.
func (t *tree) emitOrder() []emitEntry {
	var out []emitEntry
	var walk func(n *node)
	walk = func(n *node) {
		for _, k := range slices.Sorted(maps.Keys(n.children)) {
			c := n.children[k]
			e := emitEntry{name: c.hdr.Name, node: c}
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
func (e emitEntry) header() *tar.Header {
	n := e.node
	if n.content == nil {
		h := *n.hdr
		return &h
	}
	h := *n.content.hdr
	h.Name = e.name
	h.PAXRecords = copyMap(h.PAXRecords)
	if e.link != "" {
		h.Typeflag = tar.TypeLink
		h.Linkname = e.link
		h.Size = 0
	}
	return &h
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
