package fat32

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

const (
	sectorSize  = 512
	mib         = 1 << 20
	minClusters = 65536 // FAT32 needs at least 65525 clusters
	maxClusters = 0x0FFFFFF5
	minReserved = 32
	endOfChain  = 0x0FFFFFFF
	date1980    = 1<<5 | 1 // 1980-01-01
)

// FileAlign is the alignment of every file's data in the image: an ISO 9660
// sector, so that an ISO holding the image as its El Torito boot image can
// point its own directory entries at the files (package iso9660).
const FileAlign = 2048

// File is a file of the file system and, once planned, where it is.
type File struct {
	Path    string // slash-separated, relative
	Src     io.ReaderAt
	Size    int64
	cluster uint32 // first cluster, 0 if empty
	Offset  int64  // byte offset in the FAT image, 0 if empty
}

// BytesFile is a file at p whose content is b.
func BytesFile(p string, b []byte) *File {
	return &File{Path: p, Src: bytes.NewReader(b), Size: int64(len(b))}
}

// Dir is a directory of the file system.
type Dir struct {
	Name     string
	parent   *Dir
	Entries  []Entry // in creation order
	cluster  uint32
	clusters uint32
	data     []byte // encoded entries, once planned
}

// Entry is a directory entry: a subdirectory (Dir) or a file (File).
type Entry struct {
	Name string
	Dir  *Dir
	File *File
}

// Layout is a planned FAT32 image.
type Layout struct {
	Root          *Dir
	dirs          []*Dir // root first
	files         []*File
	label         string
	clusterSize   int64
	clusters      uint32 // data clusters
	sectorsPerFAT uint32
	reserved      uint32
	totalSectors  uint32
	volumeID      uint32
	fat           []byte // used prefix of one FAT
	freeClusters  uint32
	nextFree      uint32
}

// Size is the size of the image in bytes, a whole number of MiB.
func (l *Layout) Size() int64 { return int64(l.totalSectors) * sectorSize }

func (l *Layout) dataOffset(cluster uint32) int64 {
	return int64(l.reserved+2*l.sectorsPerFAT)*sectorSize + int64(cluster-2)*l.clusterSize
}

// Plan lays out a FAT32 file system named label (at most 11 characters)
// holding files (and the directories their paths need), with headroom:
// 10% + 2 MiB, and at least 65536 clusters. The cluster size follows
// mkfs.fat's table (512 B up to 260 MiB, then 4 KiB up to 8 GiB, ...).
// Directories come first, then the files in the given order, each
// contiguous and starting FileAlign aligned in the image. Every timestamp
// is 1980-01-01 00:00 (the FAT epoch), so the image depends only on files,
// label and volumeID.
func Plan(files []*File, label string, volumeID uint32) (*Layout, error) {
	l := &Layout{Root: &Dir{}, files: files, label: label, volumeID: volumeID}
	if err := l.buildTree(); err != nil {
		return nil, err
	}
	dirEntries := l.dirEntryCounts()
	if err := l.chooseGeometry(dirEntries); err != nil {
		return nil, err
	}
	if err := l.allocate(dirEntries); err != nil {
		return nil, err
	}
	for _, d := range l.dirs {
		d.data = l.encodeDir(d)
	}
	return l, nil
}

// buildTree makes the directories the files' paths need.
func (l *Layout) buildTree() error {
	l.dirs = []*Dir{l.Root}
	for _, f := range l.files {
		if f.Size > 0xFFFFFFFF {
			return fmt.Errorf("ESP: %s is %d bytes, more than FAT32's 4 GiB - 1", f.Path, f.Size)
		}
		d := l.Root
		parts := strings.Split(f.Path, "/")
		for _, p := range parts[:len(parts)-1] {
			var next *Dir
			for _, e := range d.Entries {
				if e.Dir != nil && strings.EqualFold(e.Name, p) {
					next = e.Dir
				}
			}
			if next == nil {
				next = &Dir{Name: p, parent: d}
				d.Entries = append(d.Entries, Entry{Name: p, Dir: next})
				l.dirs = append(l.dirs, next)
			}
			d = next
		}
		d.Entries = append(d.Entries, Entry{Name: parts[len(parts)-1], File: f})
	}
	return nil
}

// dirEntryCounts returns directory sizes in entries: ".", ".." (or the
// volume label), then each entry's short entry and long-name slots
// (counted even where the 8.3 name will do: an upper bound).
func (l *Layout) dirEntryCounts() map[*Dir]int64 {
	dirEntries := map[*Dir]int64{}
	for _, d := range l.dirs {
		n := int64(2)
		if d == l.Root {
			n = 1
		}
		for _, e := range d.Entries {
			n += 1 + int64(longNameSlots(e.Name))
		}
		dirEntries[d] = n
	}
	return dirEntries
}

// chooseGeometry picks the cluster size and count, the FAT size and the
// reserved sectors.
func (l *Layout) chooseGeometry(dirEntries map[*Dir]int64) error {
	need := func(cs int64) int64 { // clusters for dirs and files, alignment included
		n := int64(0)
		for _, d := range l.dirs {
			n += max(1, (dirEntries[d]*32+cs-1)/cs)
		}
		align := max(1, FileAlign/cs)
		for _, f := range l.files {
			if f.Size == 0 {
				continue
			}
			n = (n+align-1)/align*align + (f.Size+cs-1)/cs
		}
		return n + align
	}
	var cs, count int64
	for _, c := range []struct{ cs, upTo int64 }{
		{512, 260 * mib}, {4096, 8 << 30}, {8192, 16 << 30}, {16384, 32 << 30}, {32768, 1 << 62},
	} {
		n := need(c.cs)
		n += (n*c.cs/10 + 2*mib + c.cs - 1) / c.cs
		n = max(n, minClusters)
		if n*c.cs <= c.upTo {
			cs, count = c.cs, n
			break
		}
	}
	if count > maxClusters {
		return fmt.Errorf("ESP: %d clusters needed, more than FAT32 allows", count)
	}
	l.clusterSize = cs
	// Reserved sectors: at least 32, and enough that the data area starts
	// aligned to 4 KiB and to the cluster size. Clusters are added until
	// the image is a whole number of MiB (the partition then ends aligned).
	align := uint32(max(4096, cs) / sectorSize)
	for {
		l.clusters = uint32(count)
		l.sectorsPerFAT = uint32((count+2)*4+sectorSize-1) / sectorSize
		l.reserved = minReserved
		if r := (l.reserved + 2*l.sectorsPerFAT) % align; r != 0 {
			l.reserved += align - r
		}
		l.totalSectors = l.reserved + 2*l.sectorsPerFAT + uint32(count*cs/sectorSize)
		if l.Size()%mib == 0 {
			break
		}
		count++
	}
	if count > maxClusters {
		return fmt.Errorf("ESP: %d clusters needed, more than FAT32 allows", count)
	}
	return nil
}

// allocate gives the directories (the root is cluster 2), then the files,
// their clusters, and builds the used part of the FAT.
func (l *Layout) allocate(dirEntries map[*Dir]int64) error {
	cs, count := l.clusterSize, int64(l.clusters)
	fat := make([]uint32, 2, 64)
	fat[0], fat[1] = 0x0FFFFFF8, endOfChain
	alloc := func(n int64) uint32 {
		first := uint32(len(fat))
		for i := range n {
			if i == n-1 {
				fat = append(fat, endOfChain)
			} else {
				fat = append(fat, first+uint32(i)+1)
			}
		}
		return first
	}
	for _, d := range l.dirs {
		d.clusters = uint32(max(1, (dirEntries[d]*32+cs-1)/cs))
		d.cluster = alloc(int64(d.clusters))
	}
	for _, f := range l.files {
		if f.Size == 0 {
			continue
		}
		for l.dataOffset(uint32(len(fat)))%FileAlign != 0 {
			fat = append(fat, 0)
		}
		f.cluster = alloc((f.Size + cs - 1) / cs)
		f.Offset = l.dataOffset(f.cluster)
	}
	if int64(len(fat)) > count+2 {
		return fmt.Errorf("ESP: internal error: %d clusters allocated of %d", len(fat)-2, count)
	}
	used := uint32(0)
	for _, v := range fat[2:] {
		if v != 0 {
			used++
		}
	}
	l.freeClusters = uint32(count) - used
	l.nextFree = uint32(len(fat))
	l.fat = make([]byte, 4*len(fat))
	for i, v := range fat {
		binary.LittleEndian.PutUint32(l.fat[4*i:], v)
	}

	return nil
}

// shortName returns the 8.3 name of name in a directory that already has
// the short names taken, and whether a long name is needed.
func shortName(name string, taken map[string]bool) ([11]byte, bool) {
	var sn [11]byte
	valid := func(r rune) bool {
		return r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'()-@^_`{}~", r)
	}
	up := strings.ToUpper(name)
	base, ext := up, ""
	if i := strings.LastIndexByte(up, '.'); i > 0 {
		base, ext = up[:i], up[i+1:]
	}
	fits := len(base) >= 1 && len(base) <= 8 && len(ext) <= 3 &&
		!strings.ContainsFunc(base, func(r rune) bool { return !valid(r) }) &&
		!strings.ContainsFunc(ext, func(r rune) bool { return !valid(r) })
	set := func(b, e string) {
		copy(sn[:], fmt.Sprintf("%-8s%-3s", b, e))
	}
	if fits {
		set(base, ext)
		if !taken[string(sn[:])] {
			taken[string(sn[:])] = true
			return sn, up != name
		}
	}
	clean := func(s string, n int) string {
		var b []rune
		for _, r := range s {
			switch {
			case r == '.' || r == ' ':
			case valid(r):
				b = append(b, r)
			default:
				b = append(b, '_')
			}
			if len(b) == n {
				break
			}
		}
		return string(b)
	}
	b, e := clean(base, 6), clean(ext, 3)
	for i := 1; ; i++ {
		tail := fmt.Sprintf("~%d", i)
		set(b[:min(len(b), 8-len(tail))]+tail, e)
		if !taken[string(sn[:])] {
			taken[string(sn[:])] = true
			return sn, true
		}
	}
}

func longNameSlots(name string) int {
	n := len(utf16.Encode([]rune(name)))
	return (n + 12) / 13
}

func shortNameChecksum(sn [11]byte) byte {
	var s byte
	for _, c := range sn {
		s = (s&1)<<7 + s>>1 + c
	}
	return s
}

// dirEntry is a short directory entry with the fixed timestamps.
func dirEntry(sn [11]byte, attr byte, cluster uint32, size uint32) []byte {
	e := make([]byte, 32)
	copy(e, sn[:])
	e[11] = attr
	le := binary.LittleEndian
	le.PutUint16(e[16:], date1980) // created
	le.PutUint16(e[18:], date1980) // accessed
	le.PutUint16(e[20:], uint16(cluster>>16))
	le.PutUint16(e[24:], date1980) // written
	le.PutUint16(e[26:], uint16(cluster))
	le.PutUint32(e[28:], size)
	return e
}

func (l *Layout) encodeDir(d *Dir) []byte {
	var out []byte
	taken := map[string]bool{}
	if d == l.Root {
		var label [11]byte
		copy(label[:], fmt.Sprintf("%-11s", l.label))
		out = append(out, dirEntry(label, 0x08, 0, 0)...)
	} else {
		var dot, dotdot [11]byte
		copy(dot[:], ".          ")
		copy(dotdot[:], "..         ")
		parent := d.parent.cluster
		if d.parent == l.Root {
			parent = 0
		}
		out = append(out, dirEntry(dot, 0x10, d.cluster, 0)...)
		out = append(out, dirEntry(dotdot, 0x10, parent, 0)...)
	}
	for _, e := range d.Entries {
		sn, long := shortName(e.Name, taken)
		if long {
			u := utf16.Encode([]rune(e.Name))
			if len(u)%13 != 0 {
				u = append(u, 0)
				for len(u)%13 != 0 {
					u = append(u, 0xFFFF)
				}
			}
			n := len(u) / 13
			sum := shortNameChecksum(sn)
			for i := n; i >= 1; i-- {
				s := make([]byte, 32)
				s[0] = byte(i)
				if i == n {
					s[0] |= 0x40
				}
				s[11] = 0x0F
				s[13] = sum
				chars := u[(i-1)*13 : i*13]
				for k, c := range chars {
					var off int
					switch {
					case k < 5:
						off = 1 + 2*k
					case k < 11:
						off = 14 + 2*(k-5)
					default:
						off = 28 + 2*(k-11)
					}
					binary.LittleEndian.PutUint16(s[off:], c)
				}
				out = append(out, s...)
			}
		}
		if e.Dir != nil {
			out = append(out, dirEntry(sn, 0x10, e.Dir.cluster, 0)...)
		} else {
			out = append(out, dirEntry(sn, 0x20, e.File.cluster, uint32(e.File.Size))...)
		}
	}
	return out
}

// Write writes the FAT image at off in w, which must read as zeros there
// (a new or truncated file): free clusters and unused FAT entries are not
// written, so they stay holes in a sparse file.
func (l *Layout) Write(w io.WriterAt, off int64) error {
	at := func(b []byte, o int64) error {
		_, err := w.WriteAt(b, off+o)
		return err
	}
	le := binary.LittleEndian
	bs := make([]byte, sectorSize)
	copy(bs, []byte{0xEB, 0x58, 0x90})
	copy(bs[3:], "MSWIN4.1")
	le.PutUint16(bs[11:], sectorSize)
	bs[13] = byte(l.clusterSize / sectorSize)
	le.PutUint16(bs[14:], uint16(l.reserved))
	bs[16] = 2                // FATs
	bs[21] = 0xF8             // fixed disk
	le.PutUint16(bs[24:], 32) // sectors per track
	le.PutUint16(bs[26:], 64) // heads
	le.PutUint32(bs[32:], l.totalSectors)
	le.PutUint32(bs[36:], l.sectorsPerFAT)
	le.PutUint32(bs[44:], 2) // root cluster
	le.PutUint16(bs[48:], 1) // FSInfo sector
	le.PutUint16(bs[50:], 6) // backup boot sector
	bs[64] = 0x80
	bs[66] = 0x29
	le.PutUint32(bs[67:], l.volumeID)
	copy(bs[71:], fmt.Sprintf("%-11s", l.label))
	copy(bs[82:], "FAT32   ")
	copy(bs[90:], []byte{0xCD, 0x18, 0xEB, 0xFE}) // not BIOS bootable: int 18h
	bs[510], bs[511] = 0x55, 0xAA

	fsi := make([]byte, sectorSize)
	le.PutUint32(fsi[0:], 0x41615252)
	le.PutUint32(fsi[484:], 0x61417272)
	le.PutUint32(fsi[488:], l.freeClusters)
	le.PutUint32(fsi[492:], l.nextFree)
	le.PutUint32(fsi[508:], 0xAA550000)

	for _, s := range []struct {
		b []byte
		o int64
	}{{bs, 0}, {fsi, 1}, {bs, 6}, {fsi, 7}} {
		if err := at(s.b, s.o*sectorSize); err != nil {
			return err
		}
	}
	for i := range int64(2) {
		if err := at(l.fat, (int64(l.reserved)+i*int64(l.sectorsPerFAT))*sectorSize); err != nil {
			return err
		}
	}
	for _, d := range l.dirs {
		if err := at(d.data, l.dataOffset(d.cluster)); err != nil {
			return err
		}
	}
	buf := make([]byte, 1<<20)
	for _, f := range l.files {
		if f.Size == 0 {
			continue
		}
		ow := io.NewOffsetWriter(w, off+f.Offset)
		n, err := io.CopyBuffer(ow, io.NewSectionReader(f.Src, 0, f.Size), buf)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		if n != f.Size {
			return fmt.Errorf("%s: %d bytes, want %d", f.Path, n, f.Size)
		}
	}
	return nil
}
