package iso9660

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/lkpkg/lkpkg/assemble/output/fat32"
)

// SectorSize is the ISO 9660 logical block size.
const SectorSize = 2048

type node struct {
	id       string // ISO identifier: "EFI", "KERNEL.;1"
	dir      bool
	children []*node
	parent   *node
	lba      uint32
	size     uint32
	num      int // path table number (dirs)
	data     []byte
}

// recordDate is the directory record date: 1970-01-01 00:00:00 UTC.
var recordDate = []byte{70, 1, 1, 0, 0, 0, 0}

// descriptorDate is the volume descriptor date for the same instant.
var descriptorDate = append([]byte("1970010100000000"), 0)

func identifier(name string, dir bool) string {
	up := []byte(strings.ToUpper(name))
	for i, c := range up {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			up[i] = '_'
		}
	}
	s := string(up)
	if dir {
		return strings.ReplaceAll(s, ".", "_")
	}
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = strings.ReplaceAll(s[:i], ".", "_") + s[i:]
	} else {
		s += "."
	}
	return s + ";1"
}

// compareIdentifiers orders identifiers as ISO 9660 9.3: name, then extension, each
// compared as if padded with spaces.
func compareIdentifiers(a, b string) int {
	split := func(s string) (string, string) {
		s, _, _ = strings.Cut(s, ";")
		n, e, _ := strings.Cut(s, ".")
		return n, e
	}
	pad := func(x, y string) int {
		for len(x) < len(y) {
			x += " "
		}
		for len(y) < len(x) {
			y += " "
		}
		return strings.Compare(x, y)
	}
	an, ae := split(a)
	bn, be := split(b)
	if c := pad(an, bn); c != 0 {
		return c
	}
	return pad(ae, be)
}

func dirRecord(id []byte, lba, size uint32, dir bool) []byte {
	n := 33 + len(id)
	if n%2 == 1 {
		n++
	}
	r := make([]byte, n)
	r[0] = byte(n)
	both32(r[2:], lba)
	both32(r[10:], size)
	copy(r[18:], recordDate)
	if dir {
		r[25] = 0x02
	}
	both16(r[28:], 1)
	r[32] = byte(len(id))
	copy(r[33:], id)
	return r
}

func both32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b, v)
	binary.BigEndian.PutUint32(b[4:], v)
}

func both16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b, v)
	binary.BigEndian.PutUint16(b[2:], v)
}

func padded(s string, n int) []byte {
	return []byte(fmt.Sprintf("%-*s", n, s))
}

// Write writes an ISO 9660 image named volumeID into f: the FAT image boot
// at its end as the El Torito EFI boot image (and as /EFIBOOT.IMG), and
// boot's directories and files, whose extents point into it.
func Write(f *os.File, boot *fat32.Layout, volumeID string) error {
	im, err := newImage(boot)
	if err != nil {
		return err
	}
	if err := im.layout(); err != nil {
		return err
	}
	if err := f.Truncate(int64(im.total) * SectorSize); err != nil {
		return err
	}
	at := func(b []byte, lba uint32) error {
		_, err := f.WriteAt(b, int64(lba)*SectorSize)
		return err
	}
	for _, s := range []struct {
		b   []byte
		lba uint32
	}{
		{im.primaryDescriptor(volumeID), 16}, {bootRecord(), 17}, {terminator(), 18}, {im.bootCatalog(), catalogLBA},
		{im.pathTable(false), im.lPathLBA}, {im.pathTable(true), im.mPathLBA},
	} {
		if err := at(s.b, s.lba); err != nil {
			return err
		}
	}
	for _, d := range im.dirs {
		if err := at(d.data, d.lba); err != nil {
			return err
		}
	}
	return boot.Write(f, int64(im.fatLBA)*SectorSize)
}

// catalogLBA is where the El Torito boot catalog goes, after the volume
// descriptors (16: primary, 17: boot record, 18: terminator).
const catalogLBA = 19

// image is the ISO being laid out.
type image struct {
	boot     *fat32.Layout
	root     *node
	dirs     []*node // breadth first, path table order
	files    []*node // with their FAT file
	fileOf   map[*node]*fat32.File
	img      *node // EFIBOOT.IMG
	ptSize   uint32
	lPathLBA uint32
	mPathLBA uint32
	fatLBA   uint32
	total    uint32 // sectors
}

// newImage builds the tree of ISO nodes mirroring boot's.
func newImage(boot *fat32.Layout) (*image, error) {
	im := &image{boot: boot, root: &node{dir: true}, fileOf: map[*node]*fat32.File{}}
	var build func(in *node, d *fat32.Dir)
	build = func(in *node, d *fat32.Dir) {
		for _, e := range d.Entries {
			c := &node{id: identifier(e.Name, e.Dir != nil), dir: e.Dir != nil, parent: in}
			in.children = append(in.children, c)
			if e.Dir != nil {
				build(c, e.Dir)
			} else {
				im.fileOf[c] = e.File
				im.files = append(im.files, c)
			}
		}
	}
	build(im.root, boot.Root)
	im.img = &node{id: "EFIBOOT.IMG;1", parent: im.root}
	im.root.children = append(im.root.children, im.img)
	queue := []*node{im.root}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		slices.SortFunc(d.children, func(a, b *node) int { return compareIdentifiers(a.id, b.id) })
		for i := 1; i < len(d.children); i++ {
			if d.children[i].id == d.children[i-1].id {
				return nil, fmt.Errorf("ISO: two entries named %s in one directory", d.children[i].id)
			}
		}
		im.dirs = append(im.dirs, d)
		d.num = len(im.dirs)
		for _, c := range d.children {
			if c.dir {
				queue = append(queue, c)
			}
		}
	}
	return im, nil
}

// pathTable is the L (little-endian) or M (big-endian) path table.
func (im *image) pathTable(bigEndian bool) []byte {
	var pt []byte
	for _, d := range im.dirs {
		id := []byte(d.id)
		parent := 1
		if d == im.root {
			id = []byte{0}
		} else {
			parent = d.parent.num
		}
		e := make([]byte, 8+len(id)+len(id)%2)
		e[0] = byte(len(id))
		if bigEndian {
			binary.BigEndian.PutUint32(e[2:], d.lba)
			binary.BigEndian.PutUint16(e[6:], uint16(parent))
		} else {
			binary.LittleEndian.PutUint32(e[2:], d.lba)
			binary.LittleEndian.PutUint16(e[6:], uint16(parent))
		}
		copy(e[8:], id)
		pt = append(pt, e...)
	}
	return pt
}

// dirSectors is the size of d's extent, which does not depend on LBAs.
func dirSectors(d *node) uint32 {
	recs := [][]byte{dirRecord([]byte{0}, 0, 0, true), dirRecord([]byte{1}, 0, 0, true)}
	for _, c := range d.children {
		recs = append(recs, dirRecord([]byte(c.id), 0, 0, c.dir))
	}
	return uint32(len(packRecords(recs)) / SectorSize)
}

// layout places the path tables (L and M), the directory extents and the
// FAT image, points the files into the FAT image and encodes the
// directories.
func (im *image) layout() error {
	im.ptSize = uint32(len(im.pathTable(false)))
	ptSectors := (im.ptSize + SectorSize - 1) / SectorSize
	im.lPathLBA = uint32(catalogLBA + 1)
	im.mPathLBA = im.lPathLBA + ptSectors
	next := im.mPathLBA + ptSectors
	for _, d := range im.dirs {
		d.lba = next
		d.size = dirSectors(d) * SectorSize
		next += d.size / SectorSize
	}
	if im.boot.Size() > 0xFFFFFFFF {
		return fmt.Errorf("ISO: the EFI boot image is %d bytes, more than an ISO 9660 file can be", im.boot.Size())
	}
	im.fatLBA = next
	fatSectors := uint32((im.boot.Size() + SectorSize - 1) / SectorSize)
	im.total = im.fatLBA + fatSectors
	im.img.lba, im.img.size = im.fatLBA, uint32(im.boot.Size())
	for _, n := range im.files {
		ef := im.fileOf[n]
		n.size = uint32(ef.Size)
		if ef.Size > 0 {
			n.lba = im.fatLBA + uint32(ef.Offset/SectorSize)
		}
	}
	for _, d := range im.dirs {
		parent := d
		if d.parent != nil {
			parent = d.parent
		}
		recs := [][]byte{dirRecord([]byte{0}, d.lba, d.size, true), dirRecord([]byte{1}, parent.lba, parent.size, true)}
		for _, c := range d.children {
			recs = append(recs, dirRecord([]byte(c.id), c.lba, c.size, c.dir))
		}
		d.data = packRecords(recs)
	}
	return nil
}

// primaryDescriptor is the primary volume descriptor. Its dates are
// 1970-01-01 00:00 UTC: go-diskfs' ISO writer stamps the descriptors and
// the boot catalog with time.Now(), which is why this package exists.
func (im *image) primaryDescriptor(volumeID string) []byte {
	pvd := make([]byte, SectorSize)
	pvd[0] = 1
	copy(pvd[1:], "CD001")
	pvd[6] = 1
	copy(pvd[8:], padded("", 32))
	copy(pvd[40:], padded(volumeID, 32))
	both32(pvd[80:], im.total)
	both16(pvd[120:], 1)
	both16(pvd[124:], 1)
	both16(pvd[128:], SectorSize)
	both32(pvd[132:], im.ptSize)
	binary.LittleEndian.PutUint32(pvd[140:], im.lPathLBA)
	binary.BigEndian.PutUint32(pvd[148:], im.mPathLBA)
	copy(pvd[156:], dirRecord([]byte{0}, im.root.lba, im.root.size, true))
	copy(pvd[190:], padded("", 128))                       // volume set
	copy(pvd[318:], padded("", 128))                       // publisher
	copy(pvd[446:], padded("", 128))                       // data preparer
	copy(pvd[574:], padded("LKPKG", 128))                  // application
	copy(pvd[702:], padded("", 37*3))                      // copyright, abstract, bibliographic files
	copy(pvd[813:], descriptorDate)                        // created
	copy(pvd[830:], descriptorDate)                        // modified
	copy(pvd[847:], append([]byte("0000000000000000"), 0)) // expires: never
	copy(pvd[864:], append([]byte("0000000000000000"), 0)) // effective: at once
	pvd[881] = 1
	return pvd
}

// bootRecord is the El Torito boot record volume descriptor.
func bootRecord() []byte {
	brvd := make([]byte, SectorSize)
	copy(brvd[1:], "CD001")
	brvd[6] = 1
	copy(brvd[7:], "EL TORITO SPECIFICATION")
	binary.LittleEndian.PutUint32(brvd[71:], catalogLBA)
	return brvd
}

// terminator is the volume descriptor set terminator.
func terminator() []byte {
	term := make([]byte, SectorSize)
	term[0] = 255
	copy(term[1:], "CD001")
	term[6] = 1
	return term
}

// bootCatalog is the El Torito boot catalog: one EFI, no emulation entry,
// the FAT image.
func (im *image) bootCatalog() []byte {
	cat := make([]byte, SectorSize)
	cat[0] = 1    // validation entry
	cat[1] = 0xEF // EFI
	copy(cat[4:28], "LKPKG")
	cat[30], cat[31] = 0x55, 0xAA
	var sum uint16
	for i := 0; i < 32; i += 2 {
		sum += binary.LittleEndian.Uint16(cat[i:])
	}
	binary.LittleEndian.PutUint16(cat[28:], -sum)
	cat[32] = 0x88 // bootable, no emulation
	// Sector count in 512-byte units; 0 when it does not fit 16 bits, as
	// xorriso does: EDK2 then takes the rest of the medium, and the image
	// is the last thing on it.
	if n := (im.boot.Size() + 511) / 512; n <= 0xFFFF {
		binary.LittleEndian.PutUint16(cat[38:], uint16(n))
	}
	binary.LittleEndian.PutUint32(cat[40:], im.fatLBA)
	return cat
}

// packRecords packs directory records into whole sectors, none crossing
// a sector boundary.
func packRecords(recs [][]byte) []byte {
	var out []byte
	for _, r := range recs {
		if left := SectorSize - len(out)%SectorSize; len(r) > left {
			out = append(out, make([]byte, left)...)
		}
		out = append(out, r...)
	}
	if r := len(out) % SectorSize; r != 0 {
		out = append(out, make([]byte, SectorSize-r)...)
	}
	return out
}
