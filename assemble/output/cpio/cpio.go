package cpio

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/lkpkg/lkpkg/assemble/output"
)

const (
	magic     = "070701"
	headerLen = 110
	trailer   = "TRAILER!!!"
	maxField  = 0xFFFFFFFF

	typeMask    = 0o170000
	typeSocket  = 0o140000
	typeSymlink = 0o120000
	typeRegular = 0o100000
	typeBlock   = 0o060000
	typeDir     = 0o040000
	typeChar    = 0o020000
	typeFifo    = 0o010000
)

// Writer writes a newc cpio archive from tar entries. It is not safe for
// concurrent use. Close writes the trailer; it does not close the underlying
// writer.
type Writer struct {
	w      *errWriter
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
	planOcc  occurrences       // names written more than once

	// write state
	seen   map[string]byte       // name -> tar typeflag of what was written
	alias  map[string]string     // hard-link name -> first name of its inode
	groups map[string]*linkGroup // first name -> open hard-link group
	others map[string]nodeCopy   // non-regular, non-dir entries, for hard links to them
	dirs   map[string]bool       // directories written (given or synthesised)
	occ    occurrences           // as planOcc, while writing
	shared map[string]bool       // name -> its current inode is a hard-link group's
	hdr    [headerLen]byte
}

// occurrences tell the occurrences of a name apart: a name written again
// (a later image replacing a file) is a new file, and hard links refer to the
// occurrence current when they come, as when a tar is unpacked. Keys are the
// name for its first occurrence, then name NUL generation.
type occurrences struct {
	seen map[string]bool
	gen  map[string]int
}

// next records a new occurrence of name and returns its key.
func (o *occurrences) next(name string) string {
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
func (o *occurrences) key(name string) string {
	if g := o.gen[name]; g > 0 {
		return fmt.Sprintf("%s\x00%d", name, g)
	}
	return name
}

// linkGroup is a hard-link group being written: every member has been given
// the same inode; the data waits for the last member.
type linkGroup struct {
	n         node
	remaining int // links still to come
	data      []byte
	first     string   // the first name written with n.ino: the one the kernel links to
	members   []string // names written in the group and not replaced since, in order
}

// node is the inode part of a newc header.
type node struct {
	ino, mode, uid, gid, nlink, mtime, rmaj, rmin uint32
}

type nodeCopy struct {
	n    node
	body []byte // symlink target
}

// NewWriter returns a writer of a newc archive to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{
		w:        &errWriter{w: w},
		planLink: map[string]string{},
		planNlnk: map[string]int{},
		planDirs: map[string]bool{},
		planSubd: map[string]int{},
		seen:     map[string]byte{},
		alias:    map[string]string{},
		groups:   map[string]*linkGroup{},
		others:   map[string]nodeCopy{},
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
func (c *Writer) unshare(name string) error {
	if err := c.leave(name); err != nil {
		return err
	}
	if !c.shared[name] {
		return nil
	}
	delete(c.shared, name)
	return c.writeEntry(name, node{ino: c.nextIno(), mode: typeFifo, nlink: 1}, 0, nil)
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
func (c *Writer) leave(name string) error {
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

// archiveName is output.CleanName, with errors that say they are cpio's.
func archiveName(name string) (string, error) {
	n, err := output.CleanName(name)
	if err != nil {
		return "", fmt.Errorf("cpio: %w", err)
	}
	return n, nil
}

// Plan declares an entry that WriteTarEntry will be given later. Call it for
// every entry, in the same order, before the first WriteTarEntry, so that
// hard-link groups and directory link counts are right.
func (c *Writer) Plan(h *tar.Header) error {
	if len(c.seen) > 0 || c.closed {
		return errors.New("cpio: Plan after WriteTarEntry")
	}
	c.planned = true
	name, err := archiveName(h.Name)
	if err != nil {
		return err
	}
	c.planParents(name)
	switch h.Typeflag {
	case tar.TypeXGlobalHeader:
	case tar.TypeDir:
		c.planDir(name)
	case tar.TypeLink:
		target, err := archiveName(h.Linkname)
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

func (c *Writer) planParents(name string) {
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		if c.planDirs[d] {
			return
		}
		c.planDir(d)
	}
}

func (c *Writer) planDir(name string) {
	if name == "." || c.planDirs[name] {
		return
	}
	c.planDirs[name] = true
	c.planSubd[path.Dir(name)]++
}

func (c *Writer) dirNlink(name string) uint32 {
	return uint32(2 + c.planSubd[name])
}

// WriteTarEntry writes the entry h, reading a regular file's h.Size bytes
// from r. Regular files, directories, symlinks, hard links, character and
// block devices and fifos are supported; pax global headers are skipped.
func (c *Writer) WriteTarEntry(h *tar.Header, r io.Reader) error {
	if c.closed {
		return errors.New("cpio: write after Close")
	}
	if c.err != nil {
		return c.err
	}
	name, err := archiveName(h.Name)
	if err != nil {
		return err
	}
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	n, err := nodeOf(h)
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
		if h.Size < 0 || h.Size > maxField {
			return fmt.Errorf("cpio: %s: size %d does not fit newc (max 4 GiB - 1)", h.Name, h.Size)
		}
		n.mode |= typeRegular
		c.seen[name] = tar.TypeReg
		if links := c.planNlnk[key]; links > 0 {
			data := make([]byte, h.Size)
			if _, err := io.ReadFull(r, data); err != nil {
				return fmt.Errorf("cpio: %s: reading data: %w", h.Name, err)
			}
			n.ino = c.nextIno()
			n.nlink = uint32(links + 1)
			c.groups[key] = &linkGroup{n: n, remaining: links, data: data, first: name, members: []string{name}}
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
		n.mode |= typeDir
		n.ino = c.nextIno()
		n.nlink = c.dirNlink(name)
		c.dirs[name] = true
		c.seen[name] = tar.TypeDir
		return c.writeEntry(name, n, 0, nil)

	case tar.TypeSymlink:
		n.mode |= typeSymlink
		n.ino = c.nextIno()
		c.seen[name] = tar.TypeSymlink
		body := []byte(h.Linkname)
		c.others[key] = nodeCopy{n: n, body: body}
		return c.writeEntry(name, n, uint32(len(body)), body)

	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		switch h.Typeflag {
		case tar.TypeChar:
			n.mode |= typeChar
		case tar.TypeBlock:
			n.mode |= typeBlock
		default:
			n.mode |= typeFifo
		}
		n.ino = c.nextIno()
		c.seen[name] = h.Typeflag
		c.others[key] = nodeCopy{n: n}
		return c.writeEntry(name, n, 0, nil)

	case tar.TypeLink:
		return c.writeLink(h, name, key)
	}
	return fmt.Errorf("cpio: %s: unsupported tar entry type %q", h.Name, h.Typeflag)
}

func (c *Writer) writeLink(h *tar.Header, name, key string) error {
	targetName, err := archiveName(h.Linkname)
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
		c.others[key] = nodeCopy{n: n, body: o.body}
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
func (c *Writer) writeParents(name string) error {
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
		n := node{ino: c.nextIno(), mode: typeDir | 0o755, nlink: c.dirNlink(d)}
		if err := c.writeEntry(d, n, 0, nil); err != nil {
			return err
		}
	}
	return nil
}

func nodeOf(h *tar.Header) (node, error) {
	var n node
	if h.Uid < 0 || int64(h.Uid) > maxField || h.Gid < 0 || int64(h.Gid) > maxField {
		return n, fmt.Errorf("uid/gid %d/%d out of newc range", h.Uid, h.Gid)
	}
	mt := h.ModTime.Unix()
	if h.ModTime.IsZero() {
		mt = 0
	}
	if mt < 0 || mt > maxField {
		return n, fmt.Errorf("mtime %s out of newc range (1970..2106)", h.ModTime.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if h.Devmajor < 0 || h.Devmajor > maxField || h.Devminor < 0 || h.Devminor > maxField {
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

func (c *Writer) nextIno() uint32 {
	c.ino++
	return c.ino
}

func (c *Writer) writeEntry(name string, n node, size uint32, body []byte) error {
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

func (c *Writer) writeHeader(name string, n node, size uint32) error {
	if len(name)+1 > maxField {
		return fmt.Errorf("cpio: name too long")
	}
	b := c.hdr[:]
	copy(b, magic)
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
	total := headerLen + len(name) + 1
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

var zeros [4]byte

func (c *Writer) pad(size int64) error {
	if p := (4 - size%4) % 4; p > 0 {
		if _, err := c.w.Write(zeros[:p]); err != nil {
			return c.fail(err)
		}
	}
	return nil
}

func (c *Writer) fail(err error) error {
	c.err = fmt.Errorf("cpio: writing: %w", err)
	return c.err
}

// errWriter remembers the first error of the destination, to tell it
// apart from an error of the source in io.CopyN.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// Close checks that every planned hard link was written and writes the
// trailer. It does not close the underlying writer.
func (c *Writer) Close() error {
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
	if err := c.writeEntry(trailer, node{nlink: 1}, 0, nil); err != nil {
		return err
	}
	return nil
}
