package squashfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Close writes the remaining fragment, the tables and the superblock. It
// does not close f.
func (s *Writer) Close() error {
	if s.err != nil {
		s.stop()
		return s.err
	}
	s.flushFrag()
	s.stop()
	if s.werr != nil {
		return fmt.Errorf("squashfs: writing: %w", s.werr)
	}
	count := s.numberInodes()
	ids, err := s.idTable()
	if err != nil {
		return err
	}
	t := &tableWriter{idIdx: make(map[uint32]uint16, len(ids))}
	for i, id := range ids {
		t.idIdx[id] = uint16(i)
	}
	t.writeDir(s.root, count+1)
	t.inodes.flush()
	t.dirs.flush()
	frags, idm := s.fragmentTable(), idMetaTable(ids)
	for _, m := range []*metaTable{&t.inodes, &t.dirs, frags, idm} {
		if m.err != nil {
			return fmt.Errorf("squashfs: compressing metadata: %w", m.err)
		}
	}
	sb, err := s.writeTables(t, frags, idm)
	if err != nil {
		return err
	}
	sb.inodes = count
	sb.idCount = uint16(len(ids))
	sb.rootRef = s.root.ref
	if _, err := s.f.WriteAt(sb.encode(), 0); err != nil {
		return fmt.Errorf("squashfs: writing the superblock: %w", err)
	}
	return nil
}

// numberInodes sets the link counts and gives the inodes their numbers in
// mksquashfs' order: a directory's entries, sorted by name, depth first,
// then the directory; the root is last. It returns the number of inodes.
func (s *Writer) numberInodes() uint32 {
	var count uint32
	s.root.nlink = 2
	var number func(d *node)
	number = func(d *node) {
		for _, name := range sortedNames(d) {
			c := d.children[name]
			if c.kind == typeDir {
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
	return count
}

// idTable returns the uids and gids in use, ascending: the id table.
func (s *Writer) idTable() ([]uint32, error) {
	idSet := map[uint32]bool{}
	var collect func(d *node)
	collect = func(d *node) {
		idSet[d.uid], idSet[d.gid] = true, true
		for _, c := range d.children {
			if c.kind == typeDir {
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
		return nil, fmt.Errorf("squashfs: %d distinct uids and gids, more than 65536", len(ids))
	}
	return ids, nil
}

// tableWriter writes the inode and directory tables.
type tableWriter struct {
	inodes, dirs metaTable
	idIdx        map[uint32]uint16 // uid or gid -> its index in the id table
	buf          []byte
}

func (t *tableWriter) le16(v uint16) { t.buf = binary.LittleEndian.AppendUint16(t.buf, v) }
func (t *tableWriter) le32(v uint32) { t.buf = binary.LittleEndian.AppendUint32(t.buf, v) }
func (t *tableWriter) le64(v uint64) { t.buf = binary.LittleEndian.AppendUint64(t.buf, v) }

// header appends the header every inode type starts with.
func (t *tableWriter) header(n *node, typ uint16) {
	t.le16(typ)
	t.le16(n.mode)
	t.le16(t.idIdx[n.uid])
	t.le16(t.idIdx[n.gid])
	t.le32(n.mtime)
	t.le32(n.ino)
}

// writeInode appends n to the inode table; a directory's listing is at
// dirBlock, dirOff in the directory table.
func (t *tableWriter) writeInode(n *node, parentIno uint32, dirBlock uint64, dirOff uint16) {
	n.ref = t.inodes.ref()
	n.written = true
	t.buf = t.buf[:0]
	switch n.kind {
	case typeDir:
		if n.dirIndexCount == 0 && n.dirFileLen <= math.MaxUint16 {
			t.header(n, typeDir)
			t.le32(uint32(dirBlock))
			t.le32(n.nlink)
			t.le16(uint16(n.dirFileLen))
			t.le16(dirOff)
			t.le32(parentIno)
		} else {
			t.header(n, typeDir+typeExtended)
			t.le32(n.nlink)
			t.le32(n.dirFileLen)
			t.le32(uint32(dirBlock))
			t.le32(parentIno)
			t.le16(uint16(n.dirIndexCount))
			t.le16(dirOff)
			t.le32(noXattr)
			t.buf = append(t.buf, n.dirIndex...)
		}
	case typeReg:
		t.fileInode(n)
	case typeSymlink:
		t.header(n, typeSymlink)
		t.le32(n.nlink)
		t.le32(uint32(len(n.target)))
		t.buf = append(t.buf, n.target...)
	case typeBlock, typeChar:
		t.header(n, n.kind)
		t.le32(n.nlink)
		t.le32(n.rdev)
	case typeFifo:
		t.header(n, n.kind)
		t.le32(n.nlink)
	}
	t.inodes.write(t.buf)
}

// fileInode appends a regular file's inode: basic when it fits, extended
// for large or far files and for hard links.
func (t *tableWriter) fileInode(n *node) {
	if n.size <= math.MaxUint32 && n.start <= math.MaxUint32 && n.nlink == 1 {
		t.header(n, typeReg)
		t.le32(uint32(n.start))
		t.le32(n.fragIdx)
		t.le32(n.fragOff)
		t.le32(uint32(n.size))
	} else {
		t.header(n, typeReg+typeExtended)
		t.le64(n.start)
		t.le64(n.size)
		t.le64(n.sparse)
		t.le32(n.nlink)
		t.le32(n.fragIdx)
		t.le32(n.fragOff)
		t.le32(noXattr)
	}
	for _, b := range n.blocks {
		t.le32(b)
	}
}

// writeDir writes the inodes below d (depth first), d's listing, then d's
// inode.
func (t *tableWriter) writeDir(d *node, parentIno uint32) {
	names := sortedNames(d)
	for _, name := range names {
		c := d.children[name]
		if c.kind == typeDir {
			t.writeDir(c, d.ino)
		} else if !c.written {
			t.writeInode(c, 0, 0, 0)
		}
	}
	dirBlock, dirOff := t.dirs.pos()
	dirBase := t.dirs.uncompressed()
	listing, index := dirListing(d, names)
	t.dirs.write(listing)
	d.dirFileLen = uint32(len(listing)) + 3
	d.dirIndexCount = len(index)
	for _, x := range index {
		d.dirIndex = binary.LittleEndian.AppendUint32(d.dirIndex, uint32(x.off))
		d.dirIndex = binary.LittleEndian.AppendUint32(d.dirIndex, uint32(t.dirs.blockStart(dirBase+uint64(x.off))))
		d.dirIndex = binary.LittleEndian.AppendUint32(d.dirIndex, uint32(len(x.name)-1))
		d.dirIndex = append(d.dirIndex, x.name...)
	}
	t.writeInode(d, parentIno, dirBlock, dirOff)
}

// dirIndexPoint is an entry of a directory index: where a run starts in
// the listing and its first name.
type dirIndexPoint struct {
	off  int
	name string
}

// dirListing encodes d's listing: runs of at most 256 entries whose inodes
// are in one metadata block and within ±32767 of the run's first number.
// As mksquashfs, a run also ends where the listing since the last index
// point would pass 8 KiB; the next run starts an index point, which lets
// the kernel's lookup skip to it (a directory index, in an extended
// directory inode) instead of reading the directory from its start for
// every name.
func dirListing(d *node, names []string) ([]byte, []dirIndexPoint) {
	var listing []byte
	var index []dirIndexPoint
	indexP := 0
	for i := 0; i < len(names); {
		first := d.children[names[i]]
		blk := first.ref >> 16
		hdr := len(listing)
		if hdr > 0 && hdr+12+8+len(names[i])-indexP > metaBlockSize {
			index = append(index, dirIndexPoint{hdr, names[i]})
			indexP = hdr
		}
		j, size := i, 12
		for j < len(names) && j-i < dirMaxCount {
			c := d.children[names[j]]
			es := 8 + len(names[j])
			if c.ref>>16 != blk || int64(c.ino)-int64(first.ino) > math.MaxInt16 || int64(c.ino)-int64(first.ino) < math.MinInt16 ||
				j > i && hdr+size+es-indexP > metaBlockSize {
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
	return listing, index
}

// fragmentTable is the metadata of the fragment table: where each fragment
// block went and its size.
func (s *Writer) fragmentTable() *metaTable {
	var m metaTable
	var buf []byte
	for _, fe := range s.frags {
		buf = binary.LittleEndian.AppendUint64(buf[:0], fe.start)
		buf = binary.LittleEndian.AppendUint32(buf, fe.size)
		buf = binary.LittleEndian.AppendUint32(buf, 0)
		m.write(buf)
	}
	m.flush()
	return &m
}

// idMetaTable is the metadata of the id table.
func idMetaTable(ids []uint32) *metaTable {
	var m metaTable
	for _, id := range ids {
		m.write(binary.LittleEndian.AppendUint32(nil, id))
	}
	m.flush()
	return &m
}

// writeTables writes the tables after the data: inodes, directories,
// fragment table and its index, id table and its index (last: the kernel
// wants the id index to end exactly at bytes_used when there are no
// xattrs), zero padded to 4 KiB. It returns the superblock's table
// positions.
func (s *Writer) writeTables(t *tableWriter, frags, idm *metaTable) (*superblock, error) {
	sb := &superblock{fragments: uint32(len(s.frags))}
	var tail bytes.Buffer
	sb.inodeStart = s.pos
	tail.Write(t.inodes.out.Bytes())
	sb.dirStart = sb.inodeStart + uint64(t.inodes.out.Len())
	tail.Write(t.dirs.out.Bytes())
	fragMetaStart := sb.dirStart + uint64(t.dirs.out.Len())
	tail.Write(frags.out.Bytes())
	sb.fragIndexStart = fragMetaStart + uint64(frags.out.Len())
	for _, st := range frags.starts {
		tail.Write(binary.LittleEndian.AppendUint64(nil, fragMetaStart+st))
	}
	idMetaStart := sb.fragIndexStart + 8*uint64(len(frags.starts))
	tail.Write(idm.out.Bytes())
	sb.idIndexStart = idMetaStart + uint64(idm.out.Len())
	for _, st := range idm.starts {
		tail.Write(binary.LittleEndian.AppendUint64(nil, idMetaStart+st))
	}
	sb.bytesUsed = sb.idIndexStart + 8*uint64(len(idm.starts))
	if p := (padTo - sb.bytesUsed%padTo) % padTo; p > 0 {
		tail.Write(make([]byte, p))
	}
	if _, err := s.bw.Write(tail.Bytes()); err != nil {
		return nil, fmt.Errorf("squashfs: writing: %w", err)
	}
	if err := s.bw.Flush(); err != nil {
		return nil, fmt.Errorf("squashfs: writing: %w", err)
	}
	return sb, nil
}

// superblock is what the superblock says beyond the constants.
type superblock struct {
	inodes, fragments uint32
	idCount           uint16
	rootRef           uint64
	bytesUsed         uint64
	idIndexStart      uint64
	inodeStart        uint64
	dirStart          uint64
	fragIndexStart    uint64
}

func (sb *superblock) encode() []byte {
	b := make([]byte, 0, superblockSize)
	b = binary.LittleEndian.AppendUint32(b, magic)
	b = binary.LittleEndian.AppendUint32(b, sb.inodes)
	b = binary.LittleEndian.AppendUint32(b, 0) // mkfs time
	b = binary.LittleEndian.AppendUint32(b, BlockSize)
	b = binary.LittleEndian.AppendUint32(b, sb.fragments)
	b = binary.LittleEndian.AppendUint16(b, compressionZlib)
	b = binary.LittleEndian.AppendUint16(b, blockLog)
	b = binary.LittleEndian.AppendUint16(b, flagNoXattrs)
	b = binary.LittleEndian.AppendUint16(b, sb.idCount)
	b = binary.LittleEndian.AppendUint16(b, 4) // version 4.0
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, sb.rootRef)
	b = binary.LittleEndian.AppendUint64(b, sb.bytesUsed)
	b = binary.LittleEndian.AppendUint64(b, sb.idIndexStart)
	b = binary.LittleEndian.AppendUint64(b, invalidBlock) // xattrs
	b = binary.LittleEndian.AppendUint64(b, sb.inodeStart)
	b = binary.LittleEndian.AppendUint64(b, sb.dirStart)
	b = binary.LittleEndian.AppendUint64(b, sb.fragIndexStart)
	b = binary.LittleEndian.AppendUint64(b, invalidBlock) // export table
	return b
}

func sortedNames(d *node) []string {
	names := make([]string, 0, len(d.children))
	for n := range d.children {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
