package assemble

// A newc ("070701") cpio writer fed from tar headers, as the Linux kernel
// unpacks an initramfs (init/initramfs.c) and as GNU cpio -H newc writes it.
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

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
)

const (
	cpioMagic   = "070701"
	cpioHdrLen  = 110
	cpioTrailer = "TRAILER!!!"
	cpioMax     = 0xFFFFFFFF

	cpioIFMT   = 0o170000
	cpioIFSOCK = 0o140000
	cpioIFLNK  = 0o120000
	cpioIFREG  = 0o100000
	cpioIFBLK  = 0o060000
	cpioIFDIR  = 0o040000
	cpioIFCHR  = 0o020000
	cpioIFIFO  = 0o010000
)

// CPIOWriter writes a newc cpio archive from tar entries. It is not safe for
// concurrent use. Close writes the trailer; it does not close the underlying
// writer.
type CPIOWriter struct {
	w      *cpioErrWriter
	buf    []byte
	ino    uint32
	closed bool
	err    error // sticky write error

	// plan (optional, filled by Plan before the first WriteTarEntry)
	planned  bool
	planLink map[string]string // hard-link name -> first name of its inode
	planNlnk map[string]int    // first name of an inode -> number of hard links to it
	planDirs map[string]bool   // every directory, given or implied
	planSubd map[string]int    // directory -> number of immediate subdirectories
	planOcc  cpioOccurrences   // names written more than once

	// write state
	seen   map[string]byte         // name -> tar typeflag of what was written
	alias  map[string]string       // hard-link name -> first name of its inode
	groups map[string]*cpioGroup   // first name -> open hard-link group
	others map[string]cpioNodeCopy // non-regular, non-dir entries, for hard links to them
	dirs   map[string]bool         // directories written (given or synthesised)
	occ    cpioOccurrences         // as planOcc, while writing
	shared map[string]bool         // name -> its current inode is a hard-link group's
	hdr    [cpioHdrLen]byte
}

// cpioOccurrences tell the occurrences of a name apart: a name written again
// (a later image replacing a file) is a new file, and hard links refer to the
// occurrence current when they come, as when a tar is unpacked. Keys are the
// name for its first occurrence, then name NUL generation.
type cpioOccurrences struct {
	seen map[string]bool
	gen  map[string]int
}

// next records a new occurrence of name and returns its key.
func (o *cpioOccurrences) next(name string) string {
	if o.seen == nil {
		o.seen, o.gen = map[string]bool{}, map[string]int{}
	}
	if o.seen[name] {
		o.gen[name]++
	}
	o.seen[name] = true
	return o.key(name)
}

// key is the key of name's current occurrence.
func (o *cpioOccurrences) key(name string) string {
	if g := o.gen[name]; g > 0 {
		return fmt.Sprintf("%s\x00%d", name, g)
	}
	return name
}

// cpioGroup is a hard-link group being written: every member has been given
// the same inode; the data waits for the last member.
type cpioGroup struct {
	n         cpioNode
	remaining int // links still to come
	data      []byte
	first     string   // the first name written with n.ino: the one the kernel links to
	members   []string // names written in the group and not replaced since, in order
}

// cpioNode is the inode part of a newc header.
type cpioNode struct {
	ino, mode, uid, gid, nlink, mtime, rmaj, rmin uint32
}

type cpioNodeCopy struct {
	n    cpioNode
	body []byte // symlink target
}

// NewCPIOWriter returns a writer of a newc archive to w.
func NewCPIOWriter(w io.Writer) *CPIOWriter {
	return &CPIOWriter{
		w:        &cpioErrWriter{w: w},
		planLink: map[string]string{},
		planNlnk: map[string]int{},
		planDirs: map[string]bool{},
		planSubd: map[string]int{},
		seen:     map[string]byte{},
		alias:    map[string]string{},
		groups:   map[string]*cpioGroup{},
		others:   map[string]cpioNodeCopy{},
		dirs:     map[string]bool{},
		shared:   map[string]bool{},
	}
}

// unshare is called before name is written again. The kernel's initramfs
// unpacker opens an existing regular file of the same name with O_TRUNC,
// which would change every hard link to it too; tar, and the image the YAML
// describes, replace the file instead. So when name's current inode is a
// hard-link group's, an empty fifo goes first: the unpacker unlinks a name
// whose type differs (init/initramfs.c clean_path), so the next entry
// creates a new inode and the other links keep theirs.
func (c *CPIOWriter) unshare(name string) error {
	if err := c.leave(name); err != nil {
		return err
	}
	if !c.shared[name] {
		return nil
	}
	delete(c.shared, name)
	return c.writeEntry(name, cpioNode{ino: c.nextIno(), mode: cpioIFIFO, nlink: 1}, 0, nil)
}

// leave is called before name is replaced (by a file, a link or a
// directory). If name's current inode is that of a hard-link group still
// open, name leaves the group. The kernel's unpacker links a member to the
// first name it saw with the member's inode number (init/initramfs.c
// find_link), whatever that name is by then; so when name is the group's
// first name, the group moves to a new inode number, and another member
// still in it is written again with that number, to be the first name seen
// with it. That entry reopens the member's file with O_TRUNC, which loses
// nothing: a group's data comes with its last member, so its file is still
// empty. The later members are then linked to that member, and the last one
// brings the data to the file the earlier ones still share.
func (c *CPIOWriter) leave(name string) error {
	gk := c.occ.key(name)
	if first, ok := c.alias[gk]; ok {
		gk = first
	}
	g := c.groups[gk]
	if g == nil {
		return nil
	}
	g.members = slices.DeleteFunc(g.members, func(m string) bool { return m == name })
	if g.first != name || len(g.members) == 0 {
		return nil
	}
	g.first = g.members[0]
	g.n.ino = c.nextIno()
	return c.writeEntry(g.first, g.n, 0, nil)
}

// cpioName turns a tar name into an archive name: relative, cleaned, with no
// trailing slash; the root is ".". Names escaping the root are refused.
func cpioName(name string) (string, error) {
	n := strings.TrimLeft(name, "/")
	n = path.Clean(n)
	if n == "" {
		n = "."
	}
	if n == ".." || strings.HasPrefix(n, "../") {
		return "", fmt.Errorf("cpio: entry %q escapes the archive root", name)
	}
	return n, nil
}

// Plan declares an entry that WriteTarEntry will be given later. Call it for
// every entry, in the same order, before the first WriteTarEntry, so that
// hard-link groups and directory link counts are right.
func (c *CPIOWriter) Plan(h *tar.Header) error {
	if len(c.seen) > 0 || c.closed {
		return errors.New("cpio: Plan after WriteTarEntry")
	}
	c.planned = true
	name, err := cpioName(h.Name)
	if err != nil {
		return err
	}
	c.planParents(name)
	switch h.Typeflag {
	case tar.TypeXGlobalHeader:
	case tar.TypeDir:
		c.planDir(name)
	case tar.TypeLink:
		target, err := cpioName(h.Linkname)
		if err != nil {
			return err
		}
		target = c.planOcc.key(target)
		if first, ok := c.planLink[target]; ok {
			target = first
		}
		c.planLink[c.planOcc.next(name)] = target
		c.planNlnk[target]++
	default:
		c.planOcc.next(name)
	}
	return nil
}

func (c *CPIOWriter) planParents(name string) {
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		if c.planDirs[d] {
			return
		}
		c.planDir(d)
	}
}

func (c *CPIOWriter) planDir(name string) {
	if name == "." || c.planDirs[name] {
		return
	}
	c.planDirs[name] = true
	c.planSubd[path.Dir(name)]++
}

func (c *CPIOWriter) dirNlink(name string) uint32 {
	return uint32(2 + c.planSubd[name])
}

// WriteTarEntry writes the entry h, reading a regular file's h.Size bytes
// from r. Regular files, directories, symlinks, hard links, character and
// block devices and fifos are supported; pax global headers are skipped.
func (c *CPIOWriter) WriteTarEntry(h *tar.Header, r io.Reader) error {
	if c.closed {
		return errors.New("cpio: write after Close")
	}
	if c.err != nil {
		return c.err
	}
	name, err := cpioName(h.Name)
	if err != nil {
		return err
	}
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	n, err := cpioNodeOf(h)
	if err != nil {
		return fmt.Errorf("cpio: %s: %w", h.Name, err)
	}
	if err := c.writeParents(name); err != nil {
		return err
	}
	key := name
	if h.Typeflag != tar.TypeDir {
		if err := c.unshare(name); err != nil {
			return err
		}
		key = c.occ.next(name)
	} else if err := c.leave(name); err != nil {
		return err
	}

	switch h.Typeflag {
	case tar.TypeReg, '\x00', tar.TypeGNUSparse, tar.TypeCont:
		if h.Size < 0 || h.Size > cpioMax {
			return fmt.Errorf("cpio: %s: size %d does not fit newc (max 4 GiB - 1)", h.Name, h.Size)
		}
		n.mode |= cpioIFREG
		c.seen[name] = tar.TypeReg
		if links := c.planNlnk[key]; links > 0 {
			data := make([]byte, h.Size)
			if _, err := io.ReadFull(r, data); err != nil {
				return fmt.Errorf("cpio: %s: reading data: %w", h.Name, err)
			}
			n.ino = c.nextIno()
			n.nlink = uint32(links + 1)
			c.groups[key] = &cpioGroup{n: n, remaining: links, data: data, first: name, members: []string{name}}
			c.shared[name] = true
			return c.writeEntry(name, n, 0, nil)
		}
		n.ino = c.nextIno()
		if err := c.writeHeader(name, n, uint32(h.Size)); err != nil {
			return err
		}
		if _, err := io.CopyN(c.w, r, h.Size); err != nil {
			if c.w.err != nil {
				return c.fail(c.w.err)
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			// The archive is now inconsistent: refuse further writes.
			c.err = fmt.Errorf("cpio: %s: reading data: %w", h.Name, err)
			return c.err
		}
		return c.pad(h.Size)

	case tar.TypeDir:
		n.mode |= cpioIFDIR
		n.ino = c.nextIno()
		n.nlink = c.dirNlink(name)
		c.dirs[name] = true
		c.seen[name] = tar.TypeDir
		return c.writeEntry(name, n, 0, nil)

	case tar.TypeSymlink:
		n.mode |= cpioIFLNK
		n.ino = c.nextIno()
		c.seen[name] = tar.TypeSymlink
		body := []byte(h.Linkname)
		c.others[key] = cpioNodeCopy{n: n, body: body}
		return c.writeEntry(name, n, uint32(len(body)), body)

	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		switch h.Typeflag {
		case tar.TypeChar:
			n.mode |= cpioIFCHR
		case tar.TypeBlock:
			n.mode |= cpioIFBLK
		default:
			n.mode |= cpioIFIFO
		}
		n.ino = c.nextIno()
		c.seen[name] = h.Typeflag
		c.others[key] = cpioNodeCopy{n: n}
		return c.writeEntry(name, n, 0, nil)

	case tar.TypeLink:
		return c.writeLink(h, name, key)
	}
	return fmt.Errorf("cpio: %s: unsupported tar entry type %q", h.Name, h.Typeflag)
}

func (c *CPIOWriter) writeLink(h *tar.Header, name, key string) error {
	targetName, err := cpioName(h.Linkname)
	if err != nil {
		return err
	}
	target := c.occ.key(targetName)
	if first, ok := c.alias[target]; ok {
		target = first
	}
	if g := c.groups[target]; g != nil {
		c.alias[key] = target
		c.seen[name] = tar.TypeLink
		c.shared[name] = true
		g.remaining--
		if g.remaining > 0 {
			g.members = append(g.members, name)
			return c.writeEntry(name, g.n, 0, nil)
		}
		delete(c.groups, target)
		if g.remaining < 0 {
			return fmt.Errorf("cpio: hard link %s: more links to %s than planned", h.Name, h.Linkname)
		}
		return c.writeEntry(name, g.n, uint32(len(g.data)), g.data)
	}
	if o, ok := c.others[target]; ok {
		// A hard link to a symlink, device or fifo: the kernel only links
		// regular files, so write an equal node of its own.
		n := o.n
		n.ino = c.nextIno()
		c.seen[name] = c.seen[targetName]
		c.others[key] = cpioNodeCopy{n: n, body: o.body}
		return c.writeEntry(name, n, uint32(len(o.body)), o.body)
	}
	switch c.seen[targetName] {
	case 0:
		return fmt.Errorf("cpio: hard link %s: target %s is not earlier in the archive", h.Name, h.Linkname)
	case tar.TypeDir:
		return fmt.Errorf("cpio: hard link %s: target %s is a directory", h.Name, h.Linkname)
	}
	if !c.planned {
		return fmt.Errorf("cpio: hard link %s: target %s was written without a plan; call Plan for every entry first", h.Name, h.Linkname)
	}
	return fmt.Errorf("cpio: hard link %s: target %s has more links than planned", h.Name, h.Linkname)
}

// writeParents writes the directories above name that the archive has not
// had yet (root:root 0755, mtime 0), so that every entry can be created when
// unpacked.
func (c *CPIOWriter) writeParents(name string) error {
	var missing []string
	for d := path.Dir(name); d != "." && d != "/" && !c.dirs[d]; d = path.Dir(d) {
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if t := c.seen[d]; t != 0 && t != tar.TypeDir {
			return fmt.Errorf("cpio: %s: parent %s is not a directory", name, d)
		}
		c.dirs[d] = true
		c.seen[d] = tar.TypeDir
		n := cpioNode{ino: c.nextIno(), mode: cpioIFDIR | 0o755, nlink: c.dirNlink(d)}
		if err := c.writeEntry(d, n, 0, nil); err != nil {
			return err
		}
	}
	return nil
}

func cpioNodeOf(h *tar.Header) (cpioNode, error) {
	var n cpioNode
	if h.Uid < 0 || int64(h.Uid) > cpioMax || h.Gid < 0 || int64(h.Gid) > cpioMax {
		return n, fmt.Errorf("uid/gid %d/%d out of newc range", h.Uid, h.Gid)
	}
	mt := h.ModTime.Unix()
	if h.ModTime.IsZero() {
		mt = 0
	}
	if mt < 0 || mt > cpioMax {
		return n, fmt.Errorf("mtime %s out of newc range (1970..2106)", h.ModTime.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if h.Devmajor < 0 || h.Devmajor > cpioMax || h.Devminor < 0 || h.Devminor > cpioMax {
		return n, fmt.Errorf("device %d:%d out of newc range", h.Devmajor, h.Devminor)
	}
	n.mode = uint32(h.Mode & 0o7777)
	n.uid, n.gid = uint32(h.Uid), uint32(h.Gid)
	n.mtime = uint32(mt)
	n.nlink = 1
	if h.Typeflag == tar.TypeChar || h.Typeflag == tar.TypeBlock {
		n.rmaj, n.rmin = uint32(h.Devmajor), uint32(h.Devminor)
	}
	return n, nil
}

func (c *CPIOWriter) nextIno() uint32 {
	c.ino++
	return c.ino
}

func (c *CPIOWriter) writeEntry(name string, n cpioNode, size uint32, body []byte) error {
	if err := c.writeHeader(name, n, size); err != nil {
		return err
	}
	if len(body) > 0 {
		if _, err := c.w.Write(body); err != nil {
			return c.fail(err)
		}
	}
	return c.pad(int64(size))
}

func (c *CPIOWriter) writeHeader(name string, n cpioNode, size uint32) error {
	if len(name)+1 > cpioMax {
		return fmt.Errorf("cpio: name too long")
	}
	b := c.hdr[:]
	copy(b, cpioMagic)
	fields := [13]uint32{n.ino, n.mode, n.uid, n.gid, n.nlink, n.mtime, size, 0, 0, n.rmaj, n.rmin, uint32(len(name) + 1), 0}
	const hexd = "0123456789ABCDEF"
	for i, v := range fields {
		off := 6 + 8*i
		for j := 7; j >= 0; j-- {
			b[off+j] = hexd[v&0xF]
			v >>= 4
		}
	}
	// header + name + NUL, padded to a multiple of 4
	total := cpioHdrLen + len(name) + 1
	padded := (total + 3) &^ 3
	buf := append(c.buf[:0], b...)
	buf = append(buf, name...)
	for len(buf) < padded {
		buf = append(buf, 0)
	}
	c.buf = buf
	if _, err := c.w.Write(buf); err != nil {
		return c.fail(err)
	}
	return nil
}

var cpioZeros [4]byte

func (c *CPIOWriter) pad(size int64) error {
	if p := (4 - size%4) % 4; p > 0 {
		if _, err := c.w.Write(cpioZeros[:p]); err != nil {
			return c.fail(err)
		}
	}
	return nil
}

func (c *CPIOWriter) fail(err error) error {
	c.err = fmt.Errorf("cpio: writing: %w", err)
	return c.err
}

// cpioErrWriter remembers the first error of the destination, to tell it
// apart from an error of the source in io.CopyN.
type cpioErrWriter struct {
	w   io.Writer
	err error
}

func (e *cpioErrWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// Close checks that every planned hard link was written and writes the
// trailer. It does not close the underlying writer.
func (c *CPIOWriter) Close() error {
	if c.closed {
		return c.err
	}
	c.closed = true
	if c.err != nil {
		return c.err
	}
	if len(c.groups) > 0 {
		names := slices.Sorted(maps.Keys(c.groups))
		return fmt.Errorf("cpio: planned hard links to %s never came", strings.Join(names, ", "))
	}
	if err := c.writeEntry(cpioTrailer, cpioNode{nlink: 1}, 0, nil); err != nil {
		return err
	}
	return nil
}
