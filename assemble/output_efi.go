package assemble

// EFI outputs: raw-efi (base-efi.img), qcow2-efi (base-efi.qcow2) and
// iso-efi (base-efi.iso), booted by systemd-boot (given as
// OutputOptions.EFIBootloader) from an EFI System Partition that holds
//
//	EFI/BOOT/BOOTX64.EFI (or BOOTAA64.EFI)  the bootloader
//	loader/loader.conf                      default lkpkg.conf, timeout 0, editor no
//	loader/entries/lkpkg.conf               title, linux /kernel, initrd /initrd.img, options <cmdline>
//	                                        (see efiLoaderEntry)
//	kernel                                  boot/kernel
//	initrd.img                              the kernel+initrd output's initrd, byte for byte
//
// raw-efi is a GPT disk with that ESP as its only partition (FAT32, from
// LBA 2048); qcow2-efi is the same disk converted by internal/qcow2; iso-efi
// is an ISO 9660 image whose El Torito EFI boot entry (platform 0xEF, no
// emulation) is the same FAT image, and whose directory tree shows the same
// files: their ISO extents point into the FAT image (its files are
// contiguous and 2 KiB aligned), so nothing is stored twice.
//
// Determinism: every timestamp is fixed (FAT: 1980-01-01 00:00, the FAT
// epoch; ISO: 1970-01-01 00:00 UTC); the FAT volume id and the GPT disk and
// partition GUIDs are derived from a SHA-256 of the ESP's paths and
// contents. The GPT is written with go-diskfs (given the GUIDs, it is
// deterministic). The FAT32 and ISO 9660 writers are our own: go-diskfs'
// FAT stamps every directory entry (volume label and "."/".." included) with
// time.Now() unless SOURCE_DATE_EPOCH is set in the process environment, and
// sets the volume id from the clock or to 0; its ISO writer stamps the
// volume descriptors and the boot catalog with time.Now() unconditionally
// and builds from a copy of the files in a host directory. Neither can place
// files contiguously and aligned, which extent sharing needs.

import (
	"bytes"
	"crypto/sha256"
	"debug/pe"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/google/uuid"

	"github.com/lkpkg/lkpkg/assemble/output/qcow2"
)

const (
	efiEntryName   = "lkpkg.conf"
	efiEntryTitle  = "LinuxKit (lkpkg)"
	efiFATLabel    = "LKPKG-EFI"
	efiISOLabel    = "LKPKG"
	efiPartName    = "EFI System Partition"
	efiPartStart   = 2048 // LBA: 1 MiB
	efiMiB         = 1 << 20
	efiSector      = 512
	isoSector      = 2048
	fatMinClusters = 65536 // FAT32 needs at least 65525 clusters
	fatMaxClusters = 0x0FFFFFF5
	fatReserved    = 32
	fatEOC         = 0x0FFFFFFF
	fatDate1980    = 1<<5 | 1 // 1980-01-01
)

// efiNamespace is the UUID namespace of the GPT GUIDs.
var efiNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/lkpkg/lkpkg/efi"))

// efiBootName checks the bootloader and returns its file name on the ESP.
func efiBootName(opts OutputOptions) (string, error) {
	if len(opts.EFIBootloader) == 0 {
		return "", errors.New("the EFI output formats need an EFI bootloader (systemd-boot's systemd-bootx64.efi or systemd-bootaa64.efi): none was given")
	}
	names := map[string]string{"amd64": "BOOTX64.EFI", "arm64": "BOOTAA64.EFI"}
	machines := map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64"}
	peArch := ""
	if f, err := pe.NewFile(bytes.NewReader(opts.EFIBootloader)); err == nil {
		peArch = machines[f.Machine]
		if peArch == "" {
			return "", fmt.Errorf("the EFI bootloader is a PE file for machine %#x, neither amd64 nor arm64", f.Machine)
		}
	}
	arch := opts.Arch
	switch {
	case arch == "" && peArch == "":
		return "", errors.New("the EFI bootloader is not a PE file and no architecture was given (OutputOptions.Arch: amd64 or arm64)")
	case arch == "":
		arch = peArch
	case names[arch] == "":
		return "", fmt.Errorf("EFI architecture %q: want amd64 or arm64", arch)
	case peArch != "" && peArch != arch:
		return "", fmt.Errorf("the EFI bootloader is an %s binary, but the image is for %s", peArch, arch)
	}
	return names[arch], nil
}

// efiLoaderConf is loader/loader.conf: boot the one entry at once, and no
// editing of the kernel command line at the console (systemd-boot's editor
// is on by default).
const efiLoaderConf = "default " + efiEntryName + "\ntimeout 0\neditor no\n"

// efiLoaderEntry is loader/entries/lkpkg.conf for the given cmdline, which
// becomes the value of its options: line breaks become spaces, leading and
// trailing space goes, and any other control character (NUL included) is
// refused, as the entry cannot carry it: systemd-boot reads the file as a
// NUL-terminated string (a NUL would cut off the rest of the command line)
// and would pass the others to the kernel as they are.
//
// systemd-boot (src/boot/boot.c, line_get_key_value) ends a line at \n or
// \r, trims spaces and tabs around it, takes the value after the key and the
// blanks that follow it, and when that value starts with `"` and the line
// ends with `"` it drops that pair: `options "a=1" b="x y"` would boot with
// `a=1" b="x y`. It joins several options lines with one space, unquoting
// each on its own. So a command line that starts and ends with `"` is split
// at a space that has neither a quote nor a blank on either side into two
// options lines, the first ending and the second starting with something
// other than a quote: neither is unquoted, and joined they are the command
// line byte for byte (under any reading that joins options lines with a
// space, unquoting or not). Without such a space (`"a=1"`, `"a" "b"`), it is
// written on one line inside one more pair of quotes, which the unquoting
// takes off.
func efiLoaderEntry(cmdline []byte) ([]byte, error) {
	for i, r := range string(cmdline) {
		if r != '\t' && r != '\n' && r != '\r' && unicode.IsControl(r) {
			return nil, fmt.Errorf("the kernel command line has the control character %q at byte %d: the EFI formats' loader entry cannot carry it", r, i)
		}
	}
	opts := strings.TrimSpace(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(string(cmdline)))
	var b strings.Builder
	fmt.Fprintf(&b, "title %s\nlinux /kernel\ninitrd /initrd.img\n", efiEntryTitle)
	switch {
	case opts == "":
	case opts[0] != '"' || opts[len(opts)-1] != '"':
		fmt.Fprintf(&b, "options %s\n", opts)
	default:
		blankOrQuote := func(c byte) bool { return c == '"' || c == ' ' || c == '\t' }
		split := -1
		for i := 1; i+1 < len(opts); i++ {
			if opts[i] == ' ' && !blankOrQuote(opts[i-1]) && !blankOrQuote(opts[i+1]) {
				split = i
				break
			}
		}
		if split > 0 {
			fmt.Fprintf(&b, "options %s\noptions %s\n", opts[:split], opts[split+1:])
		} else {
			fmt.Fprintf(&b, "options \"%s\"\n", opts)
		}
	}
	return []byte(b.String()), nil
}

// outEFI writes the requested EFI formats.
func outEFI(o *outFiles, sp *outSplitResult, base string, opts OutputOptions, want func(string) bool) error {
	bootName, err := efiBootName(opts)
	if err != nil {
		return err
	}
	if sp.kernel == nil || sp.kernelSize == 0 {
		return errors.New("EFI outputs: the rootfs has no boot/kernel")
	}
	entry, err := efiLoaderEntry(sp.cmdline)
	if err != nil {
		return fmt.Errorf("EFI outputs: %w", err)
	}
	initrd, initrdSize, err := sp.fullInitrd(o, base)
	if err != nil {
		return err
	}
	files := []*espFile{
		{path: "EFI/BOOT/" + bootName, src: bytes.NewReader(opts.EFIBootloader), size: int64(len(opts.EFIBootloader))},
		efiBytes("loader/loader.conf", []byte(efiLoaderConf)),
		efiBytes("loader/entries/"+efiEntryName, entry),
		{path: "kernel", src: sp.kernel, size: sp.kernelSize},
		{path: "initrd.img", src: initrd, size: initrdSize},
	}
	digest, err := espDigest(files)
	if err != nil {
		return err
	}
	esp, err := planESP(files, digest)
	if err != nil {
		return err
	}

	if want(FormatRawEFI) || want(FormatQcow2EFI) {
		raw, err := o.temp(base + "-efi.img")
		if err != nil {
			return err
		}
		size, err := writeEFIDisk(raw, esp, opts.DiskSize, digest)
		if err != nil {
			return fmt.Errorf("writing %s-efi.img: %w", base, err)
		}
		if want(FormatRawEFI) {
			o.promote(FormatRawEFI, raw, base+"-efi.img")
		}
		if want(FormatQcow2EFI) {
			q, err := o.temp(base + "-efi.qcow2")
			if err != nil {
				return err
			}
			if _, err := qcow2.Convert(q, raw, size); err != nil {
				return fmt.Errorf("writing %s-efi.qcow2: %w", base, err)
			}
			o.promote(FormatQcow2EFI, q, base+"-efi.qcow2")
		}
	}
	if want(FormatISOEFI) {
		iso, err := o.temp(base + "-efi.iso")
		if err != nil {
			return err
		}
		if err := writeEFIISO(iso, esp); err != nil {
			return fmt.Errorf("writing %s-efi.iso: %w", base, err)
		}
		o.promote(FormatISOEFI, iso, base+"-efi.iso")
	}
	return nil
}

func efiBytes(p string, b []byte) *espFile {
	return &espFile{path: p, src: bytes.NewReader(b), size: int64(len(b))}
}

// espDigest hashes the ESP's paths, sizes and contents.
func espDigest(files []*espFile) ([]byte, error) {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.path, f.size)
		if _, err := io.Copy(h, io.NewSectionReader(f.src, 0, f.size)); err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.path, err)
		}
	}
	return h.Sum(nil), nil
}

func efiGUID(digest []byte, what string) string {
	return strings.ToUpper(uuid.NewSHA1(efiNamespace, []byte(what+":"+hex.EncodeToString(digest))).String())
}

// ---- FAT32 ----

// espFile is a file of the ESP and, once planned, where it is.
type espFile struct {
	path    string
	src     io.ReaderAt
	size    int64
	cluster uint32 // first cluster, 0 if empty
	off     int64  // byte offset in the FAT image, 0 if empty
}

// espDir is a directory of the ESP.
type espDir struct {
	name     string
	parent   *espDir
	entries  []espEntry // in creation order
	cluster  uint32
	clusters uint32
	data     []byte // encoded entries, once planned
}

// espEntry is a directory entry: a subdirectory or a file.
type espEntry struct {
	name string
	dir  *espDir
	file *espFile
}

// espLayout is a planned FAT32 image.
type espLayout struct {
	root          *espDir
	dirs          []*espDir // root first
	files         []*espFile
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

func (l *espLayout) size() int64 { return int64(l.totalSectors) * efiSector }

func (l *espLayout) dataOffset(cluster uint32) int64 {
	return int64(l.reserved+2*l.sectorsPerFAT)*efiSector + int64(cluster-2)*l.clusterSize
}

// planESP lays out a FAT32 file system holding files (and the directories
// their paths need), with headroom: 10% + 2 MiB, and at least 65536
// clusters. The cluster size follows mkfs.fat's table (512 B up to 260 MiB,
// then 4 KiB up to 8 GiB, ...). Directories come first, then the files in the
// given order, each contiguous and starting 2 KiB aligned in the image.
func planESP(files []*espFile, digest []byte) (*espLayout, error) {
	l := &espLayout{root: &espDir{}, files: files}
	l.dirs = []*espDir{l.root}
	for _, f := range files {
		if f.size > 0xFFFFFFFF {
			return nil, fmt.Errorf("ESP: %s is %d bytes, more than FAT32's 4 GiB - 1", f.path, f.size)
		}
		d := l.root
		parts := strings.Split(f.path, "/")
		for _, p := range parts[:len(parts)-1] {
			var next *espDir
			for _, e := range d.entries {
				if e.dir != nil && strings.EqualFold(e.name, p) {
					next = e.dir
				}
			}
			if next == nil {
				next = &espDir{name: p, parent: d}
				d.entries = append(d.entries, espEntry{name: p, dir: next})
				l.dirs = append(l.dirs, next)
			}
			d = next
		}
		d.entries = append(d.entries, espEntry{name: parts[len(parts)-1], file: f})
	}
	// Directory sizes in entries: ".", ".." (or the volume label), then
	// each entry's short entry and long-name slots (counted even where the
	// 8.3 name will do: an upper bound).
	dirEntries := map[*espDir]int64{}
	for _, d := range l.dirs {
		n := int64(2)
		if d == l.root {
			n = 1
		}
		for _, e := range d.entries {
			n += 1 + int64(fatLFNSlots(e.name))
		}
		dirEntries[d] = n
	}

	need := func(cs int64) int64 { // clusters for dirs and files, alignment included
		n := int64(0)
		for _, d := range l.dirs {
			n += max(1, (dirEntries[d]*32+cs-1)/cs)
		}
		align := max(1, isoSector/cs)
		for _, f := range files {
			if f.size == 0 {
				continue
			}
			n = (n+align-1)/align*align + (f.size+cs-1)/cs
		}
		return n + align
	}
	var cs, count int64
	for _, c := range []struct{ cs, upTo int64 }{
		{512, 260 * efiMiB}, {4096, 8 << 30}, {8192, 16 << 30}, {16384, 32 << 30}, {32768, 1 << 62},
	} {
		n := need(c.cs)
		n += (n*c.cs/10 + 2*efiMiB + c.cs - 1) / c.cs
		n = max(n, fatMinClusters)
		if n*c.cs <= c.upTo {
			cs, count = c.cs, n
			break
		}
	}
	if count > fatMaxClusters {
		return nil, fmt.Errorf("ESP: %d clusters needed, more than FAT32 allows", count)
	}
	l.clusterSize = cs
	// Reserved sectors: at least 32, and enough that the data area starts
	// aligned to 4 KiB and to the cluster size. Clusters are added until
	// the image is a whole number of MiB (the partition then ends aligned).
	align := uint32(max(4096, cs) / efiSector)
	for {
		l.clusters = uint32(count)
		l.sectorsPerFAT = uint32((count+2)*4+efiSector-1) / efiSector
		l.reserved = fatReserved
		if r := (l.reserved + 2*l.sectorsPerFAT) % align; r != 0 {
			l.reserved += align - r
		}
		l.totalSectors = l.reserved + 2*l.sectorsPerFAT + uint32(count*cs/efiSector)
		if l.size()%efiMiB == 0 {
			break
		}
		count++
	}
	if count > fatMaxClusters {
		return nil, fmt.Errorf("ESP: %d clusters needed, more than FAT32 allows", count)
	}
	l.volumeID = binary.LittleEndian.Uint32(digest[:4])

	// Allocate: directories (root is cluster 2), then files.
	fat := make([]uint32, 2, 64)
	fat[0], fat[1] = 0x0FFFFFF8, fatEOC
	alloc := func(n int64) uint32 {
		first := uint32(len(fat))
		for i := range n {
			if i == n-1 {
				fat = append(fat, fatEOC)
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
	for _, f := range files {
		if f.size == 0 {
			continue
		}
		for l.dataOffset(uint32(len(fat)))%isoSector != 0 {
			fat = append(fat, 0)
		}
		f.cluster = alloc((f.size + cs - 1) / cs)
		f.off = l.dataOffset(f.cluster)
	}
	if int64(len(fat)) > count+2 {
		return nil, fmt.Errorf("ESP: internal error: %d clusters allocated of %d", len(fat)-2, count)
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

	for _, d := range l.dirs {
		d.data = l.encodeDir(d)
	}
	return l, nil
}

// fatShortName returns the 8.3 name of name in a directory that already has
// the short names taken, and whether a long name is needed.
func fatShortName(name string, taken map[string]bool) ([11]byte, bool) {
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

func fatLFNSlots(name string) int {
	n := len(utf16.Encode([]rune(name)))
	return (n + 12) / 13
}

func fatChecksum(sn [11]byte) byte {
	var s byte
	for _, c := range sn {
		s = (s&1)<<7 + s>>1 + c
	}
	return s
}

// fatEntry is a short directory entry with the fixed timestamps.
func fatEntry(sn [11]byte, attr byte, cluster uint32, size uint32) []byte {
	e := make([]byte, 32)
	copy(e, sn[:])
	e[11] = attr
	le := binary.LittleEndian
	le.PutUint16(e[16:], fatDate1980) // created
	le.PutUint16(e[18:], fatDate1980) // accessed
	le.PutUint16(e[20:], uint16(cluster>>16))
	le.PutUint16(e[24:], fatDate1980) // written
	le.PutUint16(e[26:], uint16(cluster))
	le.PutUint32(e[28:], size)
	return e
}

func (l *espLayout) encodeDir(d *espDir) []byte {
	var out []byte
	taken := map[string]bool{}
	if d == l.root {
		var label [11]byte
		copy(label[:], fmt.Sprintf("%-11s", efiFATLabel))
		out = append(out, fatEntry(label, 0x08, 0, 0)...)
	} else {
		var dot, dotdot [11]byte
		copy(dot[:], ".          ")
		copy(dotdot[:], "..         ")
		parent := d.parent.cluster
		if d.parent == l.root {
			parent = 0
		}
		out = append(out, fatEntry(dot, 0x10, d.cluster, 0)...)
		out = append(out, fatEntry(dotdot, 0x10, parent, 0)...)
	}
	for _, e := range d.entries {
		sn, long := fatShortName(e.name, taken)
		if long {
			u := utf16.Encode([]rune(e.name))
			if len(u)%13 != 0 {
				u = append(u, 0)
				for len(u)%13 != 0 {
					u = append(u, 0xFFFF)
				}
			}
			n := len(u) / 13
			sum := fatChecksum(sn)
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
		if e.dir != nil {
			out = append(out, fatEntry(sn, 0x10, e.dir.cluster, 0)...)
		} else {
			out = append(out, fatEntry(sn, 0x20, e.file.cluster, uint32(e.file.size))...)
		}
	}
	return out
}

// write writes the FAT image at off in w, which must read as zeros there
// (a new or truncated file): free clusters and unused FAT entries are not
// written, so they stay holes in a sparse file.
func (l *espLayout) write(w io.WriterAt, off int64) error {
	at := func(b []byte, o int64) error {
		_, err := w.WriteAt(b, off+o)
		return err
	}
	le := binary.LittleEndian
	bs := make([]byte, efiSector)
	copy(bs, []byte{0xEB, 0x58, 0x90})
	copy(bs[3:], "MSWIN4.1")
	le.PutUint16(bs[11:], efiSector)
	bs[13] = byte(l.clusterSize / efiSector)
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
	copy(bs[71:], fmt.Sprintf("%-11s", efiFATLabel))
	copy(bs[82:], "FAT32   ")
	copy(bs[90:], []byte{0xCD, 0x18, 0xEB, 0xFE}) // not BIOS bootable: int 18h
	bs[510], bs[511] = 0x55, 0xAA

	fsi := make([]byte, efiSector)
	le.PutUint32(fsi[0:], 0x41615252)
	le.PutUint32(fsi[484:], 0x61417272)
	le.PutUint32(fsi[488:], l.freeClusters)
	le.PutUint32(fsi[492:], l.nextFree)
	le.PutUint32(fsi[508:], 0xAA550000)

	for _, s := range []struct {
		b []byte
		o int64
	}{{bs, 0}, {fsi, 1}, {bs, 6}, {fsi, 7}} {
		if err := at(s.b, s.o*efiSector); err != nil {
			return err
		}
	}
	for i := range int64(2) {
		if err := at(l.fat, (int64(l.reserved)+i*int64(l.sectorsPerFAT))*efiSector); err != nil {
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
		if f.size == 0 {
			continue
		}
		ow := io.NewOffsetWriter(w, off+f.off)
		n, err := io.CopyBuffer(ow, io.NewSectionReader(f.src, 0, f.size), buf)
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		if n != f.size {
			return fmt.Errorf("%s: %d bytes, want %d", f.path, n, f.size)
		}
	}
	return nil
}

// ---- GPT disk ----

// writeEFIDisk writes the GPT disk with the ESP as partition 1 into f and
// returns its size: diskSize (rounded up to 512 bytes), or if 0 the ESP
// plus 1 MiB before it and the backup GPT after it, rounded up to 1 MiB.
// Space after the ESP is left unpartitioned.
func writeEFIDisk(f *os.File, esp *espLayout, diskSize int64, digest []byte) (int64, error) {
	start := int64(efiPartStart) * efiSector
	minSize := (start + esp.size() + 33*efiSector + efiMiB - 1) / efiMiB * efiMiB
	size := minSize
	if diskSize > 0 {
		size = (diskSize + efiSector - 1) / efiSector * efiSector
		if size < start+esp.size()+33*efiSector {
			return 0, fmt.Errorf("disk size %d is too small: the EFI system partition needs %d (at least %d bytes in all)", diskSize, esp.size(), minSize)
		}
	}
	if err := f.Truncate(size); err != nil {
		return 0, err
	}
	table := &gpt.Table{
		LogicalSectorSize:  efiSector,
		PhysicalSectorSize: efiSector,
		ProtectiveMBR:      true,
		GUID:               efiGUID(digest, "disk"),
		Partitions: []*gpt.Partition{{
			Index: 1,
			Start: efiPartStart,
			End:   efiPartStart + uint64(esp.totalSectors) - 1,
			Type:  gpt.EFISystemPartition,
			Name:  efiPartName,
			GUID:  efiGUID(digest, "esp"),
		}},
	}
	if err := table.Write(f, size); err != nil {
		return 0, err
	}
	if err := esp.write(f, start); err != nil {
		return 0, err
	}
	return size, nil
}

// ---- ISO 9660 ----

type isoNode struct {
	id       string // ISO identifier: "EFI", "KERNEL.;1"
	dir      bool
	children []*isoNode
	parent   *isoNode
	lba      uint32
	size     uint32
	num      int // path table number (dirs)
	data     []byte
}

// isoDate7 is the directory record date: 1970-01-01 00:00:00 UTC.
var isoDate7 = []byte{70, 1, 1, 0, 0, 0, 0}

// isoDate17 is the volume descriptor date for the same instant.
var isoDate17 = append([]byte("1970010100000000"), 0)

func isoIdent(name string, dir bool) string {
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

// isoCompare orders identifiers as ISO 9660 9.3: name, then extension, each
// compared as if padded with spaces.
func isoCompare(a, b string) int {
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

func isoRecord(id []byte, lba, size uint32, dir bool) []byte {
	n := 33 + len(id)
	if n%2 == 1 {
		n++
	}
	r := make([]byte, n)
	r[0] = byte(n)
	isoBoth32(r[2:], lba)
	isoBoth32(r[10:], size)
	copy(r[18:], isoDate7)
	if dir {
		r[25] = 0x02
	}
	isoBoth16(r[28:], 1)
	r[32] = byte(len(id))
	copy(r[33:], id)
	return r
}

func isoBoth32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b, v)
	binary.BigEndian.PutUint32(b[4:], v)
}

func isoBoth16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b, v)
	binary.BigEndian.PutUint16(b[2:], v)
}

func isoPad(s string, n int) []byte {
	return []byte(fmt.Sprintf("%-*s", n, s))
}

// writeEFIISO writes an ISO 9660 image: the FAT image at its end as the El
// Torito EFI boot image (and as /EFIBOOT.IMG), and the ESP's directories and
// files, whose extents point into it.
func writeEFIISO(f *os.File, esp *espLayout) error {
	// Tree of ISO nodes mirroring the ESP.
	root := &isoNode{dir: true}
	var files []*isoNode // with their ESP file
	fileOf := map[*isoNode]*espFile{}
	var build func(in *isoNode, d *espDir)
	build = func(in *isoNode, d *espDir) {
		for _, e := range d.entries {
			c := &isoNode{id: isoIdent(e.name, e.dir != nil), dir: e.dir != nil, parent: in}
			in.children = append(in.children, c)
			if e.dir != nil {
				build(c, e.dir)
			} else {
				fileOf[c] = e.file
				files = append(files, c)
			}
		}
	}
	build(root, esp.root)
	img := &isoNode{id: "EFIBOOT.IMG;1", parent: root}
	root.children = append(root.children, img)
	var dirs []*isoNode // breadth first, path table order
	queue := []*isoNode{root}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		slices.SortFunc(d.children, func(a, b *isoNode) int { return isoCompare(a.id, b.id) })
		for i := 1; i < len(d.children); i++ {
			if d.children[i].id == d.children[i-1].id {
				return fmt.Errorf("ISO: two entries named %s in one directory", d.children[i].id)
			}
		}
		dirs = append(dirs, d)
		d.num = len(dirs)
		for _, c := range d.children {
			if c.dir {
				queue = append(queue, c)
			}
		}
	}

	// Path tables (L and M), then directory extents.
	pathTable := func(bigEndian bool) []byte {
		var pt []byte
		for _, d := range dirs {
			id := []byte(d.id)
			parent := 1
			if d == root {
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
	// Directory sizes do not depend on LBAs: size them first.
	dirSectors := func(d *isoNode) uint32 {
		recs := [][]byte{isoRecord([]byte{0}, 0, 0, true), isoRecord([]byte{1}, 0, 0, true)}
		for _, c := range d.children {
			recs = append(recs, isoRecord([]byte(c.id), 0, 0, c.dir))
		}
		return uint32(len(isoPackRecords(recs)) / isoSector)
	}
	const catalogLBA = 19
	ptSize := uint32(len(pathTable(false)))
	ptSectors := (ptSize + isoSector - 1) / isoSector
	lPathLBA := uint32(catalogLBA + 1)
	mPathLBA := lPathLBA + ptSectors
	next := mPathLBA + ptSectors
	for _, d := range dirs {
		d.lba = next
		d.size = dirSectors(d) * isoSector
		next += d.size / isoSector
	}
	if esp.size() > 0xFFFFFFFF {
		return fmt.Errorf("ISO: the EFI boot image is %d bytes, more than an ISO 9660 file can be", esp.size())
	}
	fatLBA := next
	fatSectors := uint32((esp.size() + isoSector - 1) / isoSector)
	total := fatLBA + fatSectors
	img.lba, img.size = fatLBA, uint32(esp.size())
	for _, n := range files {
		ef := fileOf[n]
		n.size = uint32(ef.size)
		if ef.size > 0 {
			n.lba = fatLBA + uint32(ef.off/isoSector)
		}
	}
	for _, d := range dirs {
		parent := d
		if d.parent != nil {
			parent = d.parent
		}
		recs := [][]byte{isoRecord([]byte{0}, d.lba, d.size, true), isoRecord([]byte{1}, parent.lba, parent.size, true)}
		for _, c := range d.children {
			recs = append(recs, isoRecord([]byte(c.id), c.lba, c.size, c.dir))
		}
		d.data = isoPackRecords(recs)
	}

	if err := f.Truncate(int64(total) * isoSector); err != nil {
		return err
	}
	at := func(b []byte, lba uint32) error {
		_, err := f.WriteAt(b, int64(lba)*isoSector)
		return err
	}

	// Primary volume descriptor.
	pvd := make([]byte, isoSector)
	pvd[0] = 1
	copy(pvd[1:], "CD001")
	pvd[6] = 1
	copy(pvd[8:], isoPad("", 32))
	copy(pvd[40:], isoPad(efiISOLabel, 32))
	isoBoth32(pvd[80:], total)
	isoBoth16(pvd[120:], 1)
	isoBoth16(pvd[124:], 1)
	isoBoth16(pvd[128:], isoSector)
	isoBoth32(pvd[132:], ptSize)
	binary.LittleEndian.PutUint32(pvd[140:], lPathLBA)
	binary.BigEndian.PutUint32(pvd[148:], mPathLBA)
	copy(pvd[156:], isoRecord([]byte{0}, root.lba, root.size, true))
	copy(pvd[190:], isoPad("", 128))                       // volume set
	copy(pvd[318:], isoPad("", 128))                       // publisher
	copy(pvd[446:], isoPad("", 128))                       // data preparer
	copy(pvd[574:], isoPad("LKPKG", 128))                  // application
	copy(pvd[702:], isoPad("", 37*3))                      // copyright, abstract, bibliographic files
	copy(pvd[813:], isoDate17)                             // created
	copy(pvd[830:], isoDate17)                             // modified
	copy(pvd[847:], append([]byte("0000000000000000"), 0)) // expires: never
	copy(pvd[864:], append([]byte("0000000000000000"), 0)) // effective: at once
	pvd[881] = 1

	// El Torito boot record and catalog.
	brvd := make([]byte, isoSector)
	copy(brvd[1:], "CD001")
	brvd[6] = 1
	copy(brvd[7:], "EL TORITO SPECIFICATION")
	binary.LittleEndian.PutUint32(brvd[71:], catalogLBA)

	term := make([]byte, isoSector)
	term[0] = 255
	copy(term[1:], "CD001")
	term[6] = 1

	cat := make([]byte, isoSector)
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
	if n := (esp.size() + 511) / 512; n <= 0xFFFF {
		binary.LittleEndian.PutUint16(cat[38:], uint16(n))
	}
	binary.LittleEndian.PutUint32(cat[40:], fatLBA)

	for _, s := range []struct {
		b   []byte
		lba uint32
	}{{pvd, 16}, {brvd, 17}, {term, 18}, {cat, catalogLBA}, {pathTable(false), lPathLBA}, {pathTable(true), mPathLBA}} {
		if err := at(s.b, s.lba); err != nil {
			return err
		}
	}
	for _, d := range dirs {
		if err := at(d.data, d.lba); err != nil {
			return err
		}
	}
	return esp.write(f, int64(fatLBA)*isoSector)
}

// isoPackRecords packs directory records into whole sectors, none crossing
// a sector boundary.
func isoPackRecords(recs [][]byte) []byte {
	var out []byte
	for _, r := range recs {
		if left := isoSector - len(out)%isoSector; len(r) > left {
			out = append(out, make([]byte, left)...)
		}
		out = append(out, r...)
	}
	if r := len(out) % isoSector; r != 0 {
		out = append(out, make([]byte, isoSector-r)...)
	}
	return out
}
