package efidisk

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
	"strings"
	"unicode"

	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/google/uuid"

	"github.com/lkpkg/lkpkg/assemble/output/fat32"
)

const (
	EntryName  = "lkpkg.conf" // loader/entries/EntryName
	entryTitle = "LinuxKit (lkpkg)"
	fatLabel   = "LKPKG-EFI"
	partName   = "EFI System Partition"
	partStart  = 2048 // LBA: 1 MiB
	mib        = 1 << 20
	sectorSize = 512
)

// ISOVolumeID is the volume id of the iso-efi image.
const ISOVolumeID = "LKPKG"

// guidNamespace is the UUID namespace of the GPT GUIDs.
var guidNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/lkpkg/lkpkg/efi"))

// BootName checks the bootloader and returns its file name on the ESP for
// arch (amd64 or arm64; empty: the bootloader's PE machine type).
func BootName(bootloader []byte, arch string) (string, error) {
	if len(bootloader) == 0 {
		return "", errors.New("the EFI output formats need an EFI bootloader (systemd-boot's systemd-bootx64.efi or systemd-bootaa64.efi): none was given")
	}
	names := map[string]string{"amd64": "BOOTX64.EFI", "arm64": "BOOTAA64.EFI"}
	machines := map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64"}
	peArch := ""
	if f, err := pe.NewFile(bytes.NewReader(bootloader)); err == nil {
		peArch = machines[f.Machine]
		if peArch == "" {
			return "", fmt.Errorf("the EFI bootloader is a PE file for machine %#x, neither amd64 nor arm64", f.Machine)
		}
	}
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

// LoaderConf is loader/loader.conf: boot the one entry at once, and no
// editing of the kernel command line at the console (systemd-boot's editor
// is on by default).
const LoaderConf = "default " + EntryName + "\ntimeout 0\neditor no\n"

// LoaderEntry is loader/entries/lkpkg.conf for the given cmdline, which
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
func LoaderEntry(cmdline []byte) ([]byte, error) {
	for i, r := range string(cmdline) {
		if r != '\t' && r != '\n' && r != '\r' && unicode.IsControl(r) {
			return nil, fmt.Errorf("the kernel command line has the control character %q at byte %d: the EFI formats' loader entry cannot carry it", r, i)
		}
	}
	opts := strings.TrimSpace(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(string(cmdline)))
	var b strings.Builder
	fmt.Fprintf(&b, "title %s\nlinux /kernel\ninitrd /initrd.img\n", entryTitle)
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

// Contents are what the ESP holds besides the loader configuration.
type Contents struct {
	Bootloader []byte // the EFI binary
	BootName   string // BOOTX64.EFI or BOOTAA64.EFI (BootName)
	Kernel     io.ReaderAt
	KernelSize int64
	Initrd     io.ReaderAt
	InitrdSize int64
	Cmdline    []byte // the kernel command line, for the loader entry
}

// ESP is a planned EFI System Partition.
type ESP struct {
	FAT    *fat32.Layout
	digest []byte // of the ESP's paths, sizes and contents: the GUIDs derive from it
}

// NewESP plans the ESP holding c: the bootloader as EFI/BOOT/<BootName>,
// loader/loader.conf, loader/entries/lkpkg.conf, kernel and initrd.img.
func NewESP(c Contents) (*ESP, error) {
	entry, err := LoaderEntry(c.Cmdline)
	if err != nil {
		return nil, err
	}
	files := []*fat32.File{
		fat32.BytesFile("EFI/BOOT/"+c.BootName, c.Bootloader),
		fat32.BytesFile("loader/loader.conf", []byte(LoaderConf)),
		fat32.BytesFile("loader/entries/"+EntryName, entry),
		{Path: "kernel", Src: c.Kernel, Size: c.KernelSize},
		{Path: "initrd.img", Src: c.Initrd, Size: c.InitrdSize},
	}
	digest, err := digestOf(files)
	if err != nil {
		return nil, err
	}
	fat, err := fat32.Plan(files, fatLabel, binary.LittleEndian.Uint32(digest[:4]))
	if err != nil {
		return nil, err
	}
	return &ESP{FAT: fat, digest: digest}, nil
}

// digestOf hashes the ESP's paths, sizes and contents.
func digestOf(files []*fat32.File) ([]byte, error) {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Path, f.Size)
		if _, err := io.Copy(h, io.NewSectionReader(f.Src, 0, f.Size)); err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.Path, err)
		}
	}
	return h.Sum(nil), nil
}

func guid(digest []byte, what string) string {
	return strings.ToUpper(uuid.NewSHA1(guidNamespace, []byte(what+":"+hex.EncodeToString(digest))).String())
}

// WriteDisk writes the GPT disk with the ESP as partition 1 into f and
// returns its size: diskSize (rounded up to 512 bytes), or if 0 the ESP
// plus 1 MiB before it and the backup GPT after it, rounded up to 1 MiB.
// Space after the ESP is left unpartitioned.
func (e *ESP) WriteDisk(f *os.File, diskSize int64) (int64, error) {
	esp, digest := e.FAT, e.digest
	start := int64(partStart) * sectorSize
	minSize := (start + esp.Size() + 33*sectorSize + mib - 1) / mib * mib
	size := minSize
	if diskSize > 0 {
		size = (diskSize + sectorSize - 1) / sectorSize * sectorSize
		if size < start+esp.Size()+33*sectorSize {
			return 0, fmt.Errorf("disk size %d is too small: the EFI system partition needs %d (at least %d bytes in all)", diskSize, esp.Size(), minSize)
		}
	}
	if err := f.Truncate(size); err != nil {
		return 0, err
	}
	table := &gpt.Table{
		LogicalSectorSize:  sectorSize,
		PhysicalSectorSize: sectorSize,
		ProtectiveMBR:      true,
		GUID:               guid(digest, "disk"),
		Partitions: []*gpt.Partition{{
			Index: 1,
			Start: partStart,
			End:   partStart + uint64(esp.Size()/sectorSize) - 1,
			Type:  gpt.EFISystemPartition,
			Name:  partName,
			GUID:  guid(digest, "esp"),
		}},
	}
	if err := table.Write(f, size); err != nil {
		return 0, err
	}
	if err := esp.Write(f, start); err != nil {
		return 0, err
	}
	return size, nil
}
