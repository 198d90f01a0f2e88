package assemble

// A squashfs 4.0 writer fed from tar entries, for the kernel+squashfs output
// (LinuxKit's mkimage-squashfs runs mksquashfs on the rootfs minus boot/).
//
// Why not go-diskfs' squashfs: it builds from a directory tree on the host
// (so owners and device nodes would need root and an extraction, and host
// mtimes leak in), and it stamps the superblock with time.Now(). This writer
// takes everything from the tar headers instead, in one pass:
//
//   - data blocks of 128 KiB, compressed with zlib ("gzip", compression id 1,
//     as mksquashfs' default) by GOMAXPROCS workers and written in stream
//     order, so the bytes do not depend on scheduling; a block that does not
//     shrink is stored raw, an all-zero block is a sparse (size 0) block;
//   - files shorter than a block go into shared fragment blocks, the tail of
//     longer files is a short last block (mksquashfs' defaults);
//   - inodes and directories are written when the stream ends: a later
//     entry for the same path replaces the earlier one (as when a tar is
//     extracted), hard links share one inode with its link count, missing
//     parent directories are root:root 0755 with mtime 0 (as the initrd's);
//   - inode numbers follow mksquashfs' order (a directory's entries, sorted
//     by name, depth first, then the directory; the root is last); uids and
//     gids go into the id table in ascending order; the superblock's mtime
//     is 0; no xattrs, no export table, no duplicate detection; the image is
//     zero padded to 4 KiB as mksquashfs does.
//
// Tar data is read once; only the inode and directory tables (some tens of
// bytes per entry) are held in memory.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/zlib"
)

const (
	sqMagic        = 0x73717368
	sqBlockLog     = 17
	sqBlockSize    = 1 << sqBlockLog
	sqMetaSize     = 8192
	sqCompZlib     = 1
	sqFlagNoXattrs = 0x0200
	sqInvalidBlk   = math.MaxUint64
	sqDataRaw      = 1 << 24 // data block / fragment size: stored uncompressed
	sqMetaRaw      = 0x8000  // metadata block header: stored uncompressed
	sqNoFrag       = math.MaxUint32
	sqNoXattr      = math.MaxUint32
	sqSuperSize    = 96
	sqNameMax      = 256
	sqDirMaxCount  = 256
	sqPad          = 4096

	sqDir     = 1 // basic inode types; the extended ones are +7
	sqReg     = 2
	sqSymlink = 3
	sqBlk     = 4
	sqChr     = 5
	sqFifo    = 6
	sqExt     = 7
)

// outSquashfsLevel is the zlib level of data and metadata blocks
// (klauspost/compress, deterministic for a given level and version).
var outSquashfsLevel = zlib.DefaultCompression

type sqNode struct {
	kind     uint16 // basic type
	mode     uint16 // permission bits
	uid, gid uint32
	mtime    uint32
	size     uint64 // regular file
	start    uint64 // regular file: position of its first data block
	blocks   []uint32
	sparse   uint64
	fragIdx  uint32
	fragOff  uint32
	target   string // symlink
	rdev     uint32 // devices
	children map[string]*sqNode
	nlink    uint32
	ino      uint32
	// directory index (extended directory inode)
	dirIndex      []byte
	dirIndexCount int
	ref           uint64 // inode table reference, once written
	written       bool
	numbered      bool
	dirFileLen    uint32 // directory listing size + 3
}

// sqJob is one data or fragment block on its way to the image.
type sqJob struct {
	raw   *[]byte
	n     int
	out   *bytes.Buffer // compressed, or nil: store raw
	zero  bool
	done  chan struct{}
	node  *sqNode // data block: file and index
	index int
	frag  int // fragment block index, or -1
}

type sqFragEntry struct {
	start uint64
	size  uint32
}

// squashfsWriter writes a squashfs image to f, starting at offset 0.
type squashfsWriter struct {
	f    *os.File
	root *sqNode

	frag    *[]byte // current fragment block
	fragLen int
	nFrags  int

	// pipeline
	jobs   chan *sqJob
	order  chan *sqJob
	wg     sync.WaitGroup // workers
	wdone  chan struct{}  // writer finished
	pos    uint64         // writer: bytes written so far (from 0)
	frags  []sqFragEntry  // writer: fragment table
	werr   error          // writer: first write error
	bw     *bufio.Writer
	closed bool
	err    error // sticky error of the producer side
}

var sqBlockPool = sync.Pool{New: func() any { b := make([]byte, sqBlockSize); return &b }}
var sqOutPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func newSquashfsWriter(f *os.File) (*squashfsWriter, error) {
	if _, err := f.Seek(sqSuperSize, io.SeekStart); err != nil {
		return nil, err
	}
	s := &squashfsWriter{
		f:     f,
		root:  &sqNode{kind: sqDir, mode: 0o755, children: map[string]*sqNode{}},
		pos:   sqSuperSize,
		bw:    bufio.NewWriterSize(f, 1<<20),
		wdone: make(chan struct{}),
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	s.jobs = make(chan *sqJob, workers)
	s.order = make(chan *sqJob, 4*workers)
	for range workers {
		s.wg.Add(1)
		go s.compressor()
	}
	go s.writer()
	return s, nil
}

func (s *squashfsWriter) compressor() {
	defer s.wg.Done()
	var zw *zlib.Writer
	for j := range s.jobs {
		raw := (*j.raw)[:j.n]
		if j.frag < 0 && sqAllZero(raw) {
			j.zero = true
			close(j.done)
			continue
		}
		out := sqOutPool.Get().(*bytes.Buffer)
		out.Reset()
		var err error
		if zw == nil {
			zw, err = zlib.NewWriterLevel(out, outSquashfsLevel)
		} else {
			zw.Reset(out)
		}
		if err == nil {
			_, err = zw.Write(raw)
		}
		if err == nil {
			err = zw.Close()
		}
		if err == nil && out.Len() < len(raw) {
			j.out = out
		} else {
			sqOutPool.Put(out)
		}
		close(j.done)
	}
}

func sqAllZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// writer writes the blocks in submission order and records where they went.
func (s *squashfsWriter) writer() {
	defer close(s.wdone)
	for j := range s.order {
		<-j.done
		var size uint32
		var data []byte
		switch {
		case j.zero:
		case j.out != nil:
			data = j.out.Bytes()
			size = uint32(len(data))
		default:
			data = (*j.raw)[:j.n]
			size = uint32(len(data)) | sqDataRaw
		}
		if j.frag >= 0 {
			s.frags = append(s.frags, sqFragEntry{start: s.pos, size: size})
		} else {
			if j.index == 0 {
				j.node.start = s.pos
			}
			j.node.blocks[j.index] = size
			if j.zero {
				j.node.sparse += uint64(j.n)
			}
		}
		if len(data) > 0 && s.werr == nil {
			if _, err := s.bw.Write(data); err != nil {
				s.werr = err
			}
		}
		s.pos += uint64(len(data))
		if j.out != nil {
			sqOutPool.Put(j.out)
		}
		sqBlockPool.Put(j.raw)
	}
}

func (s *squashfsWriter) submit(j *sqJob) {
	j.done = make(chan struct{})
	s.order <- j
	s.jobs <- j
}

// stop ends the pipeline and waits for it.
func (s *squashfsWriter) stop() {
	if s.closed {
		return
	}
	s.closed = true
	close(s.jobs)
	close(s.order)
	s.wg.Wait()
	<-s.wdone
}

// Abort stops the workers; the image is incomplete.
func (s *squashfsWriter) Abort() { s.stop() }

func (s *squashfsWriter) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return err
}

// lookup walks the tree to name ("." is the root); nil if absent.
func (s *squashfsWriter) lookup(name string) *sqNode {
	n := s.root
	if name == "." {
		return n
	}
	for part := range strings.SplitSeq(name, "/") {
		if n.kind != sqDir {
			return nil
		}
		if n = n.children[part]; n == nil {
			return nil
		}
	}
	return n
}

// parentDir returns the directory that holds name, creating missing
// directories (root:root 0755, mtime 0).
func (s *squashfsWriter) parentDir(name string) (*sqNode, error) {
	d := s.root
	dir := path.Dir(name)
	if dir == "." {
		return d, nil
	}
	for part := range strings.SplitSeq(dir, "/") {
		c := d.children[part]
		if c == nil {
			c = &sqNode{kind: sqDir, mode: 0o755, children: map[string]*sqNode{}}
			d.children[part] = c
		} else if c.kind != sqDir {
			return nil, fmt.Errorf("squashfs: %s: parent %s is not a directory", name, part)
		}
		d = c
	}
	return d, nil
}

// WriteTarEntry adds the entry h, reading a regular file's h.Size bytes from r.
func (s *squashfsWriter) WriteTarEntry(h *tar.Header, r io.Reader) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return errors.New("squashfs: write after Close")
	}
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cpioName(h.Name)
	if err != nil {
		return fmt.Errorf("squashfs: %s", strings.TrimPrefix(err.Error(), "cpio: "))
	}
	n, err := sqNodeOf(h)
	if err != nil {
		return fmt.Errorf("squashfs: %s: %w", h.Name, err)
	}
	if name == "." {
		if h.Typeflag != tar.TypeDir {
			return fmt.Errorf("squashfs: %s: the root must be a directory", h.Name)
		}
		s.root.mode, s.root.uid, s.root.gid, s.root.mtime = n.mode, n.uid, n.gid, n.mtime
		return nil
	}
	base := path.Base(name)
	if len(base) > sqNameMax {
		return fmt.Errorf("squashfs: %s: name longer than %d bytes", h.Name, sqNameMax)
	}
	parent, err := s.parentDir(name)
	if err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if old := parent.children[base]; old != nil && old.kind == sqDir {
			old.mode, old.uid, old.gid, old.mtime = n.mode, n.uid, n.gid, n.mtime
			return nil
		}
		n.kind = sqDir
		n.children = map[string]*sqNode{}
	case tar.TypeReg, '\x00', tar.TypeGNUSparse, tar.TypeCont:
		if h.Size < 0 {
			return fmt.Errorf("squashfs: %s: negative size", h.Name)
		}
		n.kind = sqReg
		if err := s.writeData(n, h, r); err != nil {
			return s.fail(err)
		}
	case tar.TypeSymlink:
		n.kind = sqSymlink
		n.target = h.Linkname
		if h.Linkname == "" {
			return fmt.Errorf("squashfs: %s: empty symlink target", h.Name)
		}
	case tar.TypeChar, tar.TypeBlock:
		n.kind = sqChr
		if h.Typeflag == tar.TypeBlock {
			n.kind = sqBlk
		}
		if h.Devmajor < 0 || h.Devmajor > 0xfff || h.Devminor < 0 || h.Devminor > 0xfffff {
			return fmt.Errorf("squashfs: %s: device %d:%d out of range", h.Name, h.Devmajor, h.Devminor)
		}
		maj, mnr := uint32(h.Devmajor), uint32(h.Devminor)
		n.rdev = mnr&0xff | maj<<8 | (mnr&^0xff)<<12 // the kernel's new_encode_dev
	case tar.TypeFifo:
		n.kind = sqFifo
	case tar.TypeLink:
		target, err := cpioName(h.Linkname)
		if err != nil {
			return fmt.Errorf("squashfs: hard link %s: %w", h.Name, err)
		}
		t := s.lookup(target)
		switch {
		case t == nil:
			return fmt.Errorf("squashfs: hard link %s: target %s is not earlier in the archive", h.Name, h.Linkname)
		case t.kind == sqDir:
			return fmt.Errorf("squashfs: hard link %s: target %s is a directory", h.Name, h.Linkname)
		}
		parent.children[base] = t
		return nil
	default:
		return fmt.Errorf("squashfs: %s: unsupported tar entry type %q", h.Name, h.Typeflag)
	}
	parent.children[base] = n
	return nil
}

func sqNodeOf(h *tar.Header) (*sqNode, error) {
	if h.Uid < 0 || int64(h.Uid) > math.MaxUint32 || h.Gid < 0 || int64(h.Gid) > math.MaxUint32 {
		return nil, fmt.Errorf("uid/gid %d/%d out of range", h.Uid, h.Gid)
	}
	mt := h.ModTime.Unix()
	if h.ModTime.IsZero() {
		mt = 0
	}
	if mt < 0 || mt > math.MaxUint32 {
		return nil, fmt.Errorf("mtime %s out of squashfs range (1970..2106)", h.ModTime.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return &sqNode{mode: uint16(h.Mode & 0o7777), uid: uint32(h.Uid), gid: uint32(h.Gid), mtime: uint32(mt)}, nil
}

// writeData queues the blocks of a regular file (tail in a fragment if the
// file is shorter than a block).
func (s *squashfsWriter) writeData(n *sqNode, h *tar.Header, r io.Reader) error {
	n.size = uint64(h.Size)
	n.fragIdx, n.fragOff = sqNoFrag, 0
	if h.Size == 0 {
		return nil
	}
	if h.Size < sqBlockSize {
		if s.frag != nil && s.fragLen+int(h.Size) > sqBlockSize {
			s.flushFrag()
		}
		if s.frag == nil {
			s.frag = sqBlockPool.Get().(*[]byte)
			s.fragLen = 0
		}
		buf := (*s.frag)[s.fragLen : s.fragLen+int(h.Size)]
		if _, err := io.ReadFull(r, buf); err != nil {
			return sqReadErr(h, err)
		}
		n.fragIdx, n.fragOff = uint32(s.nFrags), uint32(s.fragLen)
		s.fragLen += int(h.Size)
		return nil
	}
	nb := (h.Size + sqBlockSize - 1) / sqBlockSize
	n.blocks = make([]uint32, nb)
	left := h.Size
	for i := range int(nb) {
		buf := sqBlockPool.Get().(*[]byte)
		k := int(min(left, sqBlockSize))
		if _, err := io.ReadFull(r, (*buf)[:k]); err != nil {
			sqBlockPool.Put(buf)
			return sqReadErr(h, err)
		}
		s.submit(&sqJob{raw: buf, n: k, node: n, index: i, frag: -1})
		left -= int64(k)
	}
	return nil
}

func sqReadErr(h *tar.Header, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("squashfs: %s: reading data: %w", h.Name, err)
}

func (s *squashfsWriter) flushFrag() {
	if s.frag == nil {
		return
	}
	s.submit(&sqJob{raw: s.frag, n: s.fragLen, frag: s.nFrags})
	s.nFrags++
	s.frag, s.fragLen = nil, 0
}

// sqMeta builds a metadata table: 8 KiB blocks, each compressed (or raw if
// that is not smaller) behind a 2-byte header.
type sqMeta struct {
	out    bytes.Buffer
	cur    []byte
	starts []uint64 // offset of each block in out
	tmp    bytes.Buffer
	zw     *zlib.Writer
	err    error
}

// pos is where the next byte goes: block start in the table, offset in it.
func (m *sqMeta) pos() (uint64, uint16) { return uint64(m.out.Len()), uint16(len(m.cur)) }

func (m *sqMeta) ref() uint64 {
	b, o := m.pos()
	return b<<16 | uint64(o)
}

// uncompressed is the number of bytes written so far.
func (m *sqMeta) uncompressed() uint64 {
	return uint64(len(m.starts))*sqMetaSize + uint64(len(m.cur))
}

// blockStart is the table offset of the block that holds the byte at
// uncompressed position u (written, or in the block being filled).
func (m *sqMeta) blockStart(u uint64) uint64 {
	if b := u / sqMetaSize; b < uint64(len(m.starts)) {
		return m.starts[b]
	}
	return uint64(m.out.Len())
}

func (m *sqMeta) write(p []byte) {
	for len(p) > 0 {
		k := min(len(p), sqMetaSize-len(m.cur))
		m.cur = append(m.cur, p[:k]...)
		p = p[k:]
		if len(m.cur) == sqMetaSize {
			m.flush()
		}
	}
}

func (m *sqMeta) flush() {
	if len(m.cur) == 0 {
		return
	}
	m.starts = append(m.starts, uint64(m.out.Len()))
	m.tmp.Reset()
	if m.zw == nil {
		m.zw, m.err = zlib.NewWriterLevel(&m.tmp, outSquashfsLevel)
	} else {
		m.zw.Reset(&m.tmp)
	}
	if m.err == nil {
		_, m.err = m.zw.Write(m.cur)
	}
	if m.err == nil {
		m.err = m.zw.Close()
	}
	var hdr [2]byte
	if m.tmp.Len() < len(m.cur) {
		binary.LittleEndian.PutUint16(hdr[:], uint16(m.tmp.Len()))
		m.out.Write(hdr[:])
		m.out.Write(m.tmp.Bytes())
	} else {
		binary.LittleEndian.PutUint16(hdr[:], uint16(len(m.cur))|sqMetaRaw)
		m.out.Write(hdr[:])
		m.out.Write(m.cur)
	}
	m.cur = m.cur[:0]
}

// Close writes the remaining fragment, the tables and the superblock. It
// does not close f.
func (s *squashfsWriter) Close() error {
	if s.err != nil {
		s.stop()
		return s.err
	}
	s.flushFrag()
	s.stop()
	if s.werr != nil {
		return fmt.Errorf("squashfs: writing: %w", s.werr)
	}

	// Link counts and inode numbers, in write order.
	var count uint32
	s.root.nlink = 2
	var number func(d *sqNode)
	number = func(d *sqNode) {
		for _, name := range sqSorted(d) {
			c := d.children[name]
			if c.kind == sqDir {
				c.nlink = 2
				d.nlink++
				number(c)
				continue
			}
			c.nlink++
			if !c.numbered {
				c.numbered = true
				count++
				c.ino = count
			}
		}
		count++
		d.ino = count
		d.numbered = true
	}
	number(s.root)

	// ids, ascending
	idSet := map[uint32]bool{}
	var collect func(d *sqNode)
	collect = func(d *sqNode) {
		idSet[d.uid], idSet[d.gid] = true, true
		for _, c := range d.children {
			if c.kind == sqDir {
				collect(c)
			} else {
				idSet[c.uid], idSet[c.gid] = true, true
			}
		}
	}
	collect(s.root)
	ids := make([]uint32, 0, len(idSet))
	for id := range idSet {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) > 65536 {
		return fmt.Errorf("squashfs: %d distinct uids and gids, more than 65536", len(ids))
	}
	idIdx := make(map[uint32]uint16, len(ids))
	for i, id := range ids {
		idIdx[id] = uint16(i)
	}

	var inodes, dirs sqMeta
	var buf []byte
	le16 := func(v uint16) { buf = binary.LittleEndian.AppendUint16(buf, v) }
	le32 := func(v uint32) { buf = binary.LittleEndian.AppendUint32(buf, v) }
	le64 := func(v uint64) { buf = binary.LittleEndian.AppendUint64(buf, v) }
	header := func(n *sqNode, typ uint16) {
		le16(typ)
		le16(n.mode)
		le16(idIdx[n.uid])
		le16(idIdx[n.gid])
		le32(n.mtime)
		le32(n.ino)
	}
	writeInode := func(n *sqNode, parentIno uint32, dirBlock uint64, dirOff uint16) {
		n.ref = inodes.ref()
		n.written = true
		buf = buf[:0]
		switch n.kind {
		case sqDir:
			if n.dirIndexCount == 0 && n.dirFileLen <= math.MaxUint16 {
				header(n, sqDir)
				le32(uint32(dirBlock))
				le32(n.nlink)
				le16(uint16(n.dirFileLen))
				le16(dirOff)
				le32(parentIno)
			} else {
				header(n, sqDir+sqExt)
				le32(n.nlink)
				le32(n.dirFileLen)
				le32(uint32(dirBlock))
				le32(parentIno)
				le16(uint16(n.dirIndexCount))
				le16(dirOff)
				le32(sqNoXattr)
				buf = append(buf, n.dirIndex...)
			}
		case sqReg:
			if n.size <= math.MaxUint32 && n.start <= math.MaxUint32 && n.nlink == 1 {
				header(n, sqReg)
				le32(uint32(n.start))
				le32(n.fragIdx)
				le32(n.fragOff)
				le32(uint32(n.size))
			} else {
				header(n, sqReg+sqExt)
				le64(n.start)
				le64(n.size)
				le64(n.sparse)
				le32(n.nlink)
				le32(n.fragIdx)
				le32(n.fragOff)
				le32(sqNoXattr)
			}
			for _, b := range n.blocks {
				le32(b)
			}
		case sqSymlink:
			header(n, sqSymlink)
			le32(n.nlink)
			le32(uint32(len(n.target)))
			buf = append(buf, n.target...)
		case sqBlk, sqChr:
			header(n, n.kind)
			le32(n.nlink)
			le32(n.rdev)
		case sqFifo:
			header(n, n.kind)
			le32(n.nlink)
		}
		inodes.write(buf)
	}

	var writeDir func(d *sqNode, parentIno uint32)
	writeDir = func(d *sqNode, parentIno uint32) {
		names := sqSorted(d)
		for _, name := range names {
			c := d.children[name]
			if c.kind == sqDir {
				writeDir(c, d.ino)
			} else if !c.written {
				writeInode(c, 0, 0, 0)
			}
		}
		// The listing: runs of at most 256 entries whose inodes are in one
		// metadata block and within ±32767 of the run's first number. As
		// mksquashfs, a run also ends where the listing since the last
		// index point would pass 8 KiB; the next run starts an index point,
		// which lets the kernel's lookup skip to it (a directory index, in
		// an extended directory inode) instead of reading the directory
		// from its start for every name.
		dirBlock, dirOff := dirs.pos()
		dirBase := dirs.uncompressed()
		var listing []byte
		type dirIndex struct {
			off  int
			name string
		}
		var index []dirIndex
		indexP := 0
		for i := 0; i < len(names); {
			first := d.children[names[i]]
			blk := first.ref >> 16
			hdr := len(listing)
			if hdr > 0 && hdr+12+8+len(names[i])-indexP > sqMetaSize {
				index = append(index, dirIndex{hdr, names[i]})
				indexP = hdr
			}
			j, size := i, 12
			for j < len(names) && j-i < sqDirMaxCount {
				c := d.children[names[j]]
				es := 8 + len(names[j])
				if c.ref>>16 != blk || int64(c.ino)-int64(first.ino) > math.MaxInt16 || int64(c.ino)-int64(first.ino) < math.MinInt16 ||
					j > i && hdr+size+es-indexP > sqMetaSize {
					break
				}
				size += es
				j++
			}
			listing = binary.LittleEndian.AppendUint32(listing, uint32(j-i-1))
			listing = binary.LittleEndian.AppendUint32(listing, uint32(blk))
			listing = binary.LittleEndian.AppendUint32(listing, first.ino)
			for _, name := range names[i:j] {
				c := d.children[name]
				listing = binary.LittleEndian.AppendUint16(listing, uint16(c.ref&0xffff))
				listing = binary.LittleEndian.AppendUint16(listing, uint16(int16(int64(c.ino)-int64(first.ino))))
				listing = binary.LittleEndian.AppendUint16(listing, c.kind)
				listing = binary.LittleEndian.AppendUint16(listing, uint16(len(name)-1))
				listing = append(listing, name...)
			}
			i = j
		}
		dirs.write(listing)
		d.dirFileLen = uint32(len(listing)) + 3
		d.dirIndexCount = len(index)
		for _, x := range index {
			d.dirIndex = binary.LittleEndian.AppendUint32(d.dirIndex, uint32(x.off))
			d.dirIndex = binary.LittleEndian.AppendUint32(d.dirIndex, uint32(dirs.blockStart(dirBase+uint64(x.off))))
			d.dirIndex = binary.LittleEndian.AppendUint32(d.dirIndex, uint32(len(x.name)-1))
			d.dirIndex = append(d.dirIndex, x.name...)
		}
		writeInode(d, parentIno, dirBlock, dirOff)
	}
	writeDir(s.root, count+1)
	inodes.flush()
	dirs.flush()

	var frags, idm sqMeta
	for _, fe := range s.frags {
		buf = buf[:0]
		le64(fe.start)
		le32(fe.size)
		le32(0)
		frags.write(buf)
	}
	frags.flush()
	for _, id := range ids {
		buf = buf[:0]
		le32(id)
		idm.write(buf)
	}
	idm.flush()
	for _, m := range []*sqMeta{&inodes, &dirs, &frags, &idm} {
		if m.err != nil {
			return fmt.Errorf("squashfs: compressing metadata: %w", m.err)
		}
	}

	// Layout after the data: inodes, directories, fragment table and its
	// index, id table and its index (last: the kernel wants the id index
	// to end exactly at bytes_used when there are no xattrs).
	pos := s.pos
	var tail bytes.Buffer
	inodeStart := pos
	tail.Write(inodes.out.Bytes())
	dirStart := inodeStart + uint64(inodes.out.Len())
	tail.Write(dirs.out.Bytes())
	fragMetaStart := dirStart + uint64(dirs.out.Len())
	tail.Write(frags.out.Bytes())
	fragIndexStart := fragMetaStart + uint64(frags.out.Len())
	for _, st := range frags.starts {
		tail.Write(binary.LittleEndian.AppendUint64(nil, fragMetaStart+st))
	}
	idMetaStart := fragIndexStart + 8*uint64(len(frags.starts))
	tail.Write(idm.out.Bytes())
	idIndexStart := idMetaStart + uint64(idm.out.Len())
	for _, st := range idm.starts {
		tail.Write(binary.LittleEndian.AppendUint64(nil, idMetaStart+st))
	}
	bytesUsed := idIndexStart + 8*uint64(len(idm.starts))
	if p := (sqPad - bytesUsed%sqPad) % sqPad; p > 0 {
		tail.Write(make([]byte, p))
	}
	if _, err := s.bw.Write(tail.Bytes()); err != nil {
		return fmt.Errorf("squashfs: writing: %w", err)
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("squashfs: writing: %w", err)
	}

	sb := make([]byte, 0, sqSuperSize)
	sb = binary.LittleEndian.AppendUint32(sb, sqMagic)
	sb = binary.LittleEndian.AppendUint32(sb, count)
	sb = binary.LittleEndian.AppendUint32(sb, 0) // mkfs time
	sb = binary.LittleEndian.AppendUint32(sb, sqBlockSize)
	sb = binary.LittleEndian.AppendUint32(sb, uint32(len(s.frags)))
	sb = binary.LittleEndian.AppendUint16(sb, sqCompZlib)
	sb = binary.LittleEndian.AppendUint16(sb, sqBlockLog)
	sb = binary.LittleEndian.AppendUint16(sb, sqFlagNoXattrs)
	sb = binary.LittleEndian.AppendUint16(sb, uint16(len(ids)))
	sb = binary.LittleEndian.AppendUint16(sb, 4) // version 4.0
	sb = binary.LittleEndian.AppendUint16(sb, 0)
	sb = binary.LittleEndian.AppendUint64(sb, s.root.ref)
	sb = binary.LittleEndian.AppendUint64(sb, bytesUsed)
	sb = binary.LittleEndian.AppendUint64(sb, idIndexStart)
	sb = binary.LittleEndian.AppendUint64(sb, sqInvalidBlk) // xattrs
	sb = binary.LittleEndian.AppendUint64(sb, inodeStart)
	sb = binary.LittleEndian.AppendUint64(sb, dirStart)
	sb = binary.LittleEndian.AppendUint64(sb, fragIndexStart)
	sb = binary.LittleEndian.AppendUint64(sb, sqInvalidBlk) // export table
	if _, err := s.f.WriteAt(sb, 0); err != nil {
		return fmt.Errorf("squashfs: writing the superblock: %w", err)
	}
	return nil
}

func sqSorted(d *sqNode) []string {
	names := make([]string, 0, len(d.children))
	for n := range d.children {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
