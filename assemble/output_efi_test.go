package assemble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
	"github.com/diskfs/go-diskfs/partition/gpt"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
)

// efiTestPE is a minimal PE header for machine (enough for debug/pe).
func efiTestPE(machine uint16) []byte {
	b := make([]byte, 256)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], 0x40)
	copy(b[0x40:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(b[0x44:], machine)
	return b
}

// efiTestLoader stands in for systemd-boot: arbitrary bytes, not a PE.
var efiTestLoader = []byte(strings.Repeat("not really systemd-boot ", 2000))

var efiAll = []string{FormatRawEFI, FormatQcow2EFI, FormatISOEFI}

// efiFATFiles reads every file of the FAT image at off in img with
// go-diskfs' reader.
func efiFATFiles(t *testing.T, img string, off, size int64) map[string][]byte {
	t.Helper()
	b, err := file.OpenFromPath(img, true)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fs, err := fat32.Read(b, size, off, 512)
	if err != nil {
		t.Fatalf("go-diskfs fat32.Read: %v", err)
	}
	return efiWalk(t, fs, ".")
}

// efiWalk reads every file under dir ("." is the root: go-diskfs takes
// io/fs paths); directories are listed with a trailing slash.
func efiWalk(t *testing.T, fs filesystem.FileSystem, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	des, err := fs.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir %s: %v", dir, err)
	}
	for _, de := range des {
		if de.Name() == "." || de.Name() == ".." {
			continue
		}
		p := de.Name()
		if dir != "." {
			p = dir + "/" + p
		}
		if de.IsDir() {
			out[p+"/"] = nil
			for k, v := range efiWalk(t, fs, p) {
				out[k] = v
			}
			continue
		}
		f, err := fs.OpenFile(p, os.O_RDONLY)
		if err != nil {
			t.Fatalf("open %s: %v", p, err)
		}
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		out[p] = b
	}
	return out
}

func TestOutputEFI(t *testing.T) {
	rootfs, kernel, cmdline := outRootfs(t)
	dir := t.TempDir()
	formats := append(slices.Clone(efiAll), FormatKernelInitrd)
	files, err := WriteOutputsWith(bytes.NewReader(rootfs), dir, "lk", formats, OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lk-efi.img", "lk-efi.qcow2", "lk-efi.iso", "lk-kernel", "lk-initrd.img", "lk-cmdline"}
	for i := range want {
		want[i] = filepath.Join(dir, want[i])
	}
	if !slices.Equal(files, want) {
		t.Fatalf("files %q, want %q", files, want)
	}
	outOnlyFiles(t, dir, "lk-efi.img", "lk-efi.qcow2", "lk-efi.iso", "lk-kernel", "lk-initrd.img", "lk-cmdline")
	initrd := must(os.ReadFile(filepath.Join(dir, "lk-initrd.img")))(t)
	raw := filepath.Join(dir, "lk-efi.img")
	rawBytes := must(os.ReadFile(raw))(t)
	entry := "title LinuxKit (lkpkg)\nlinux /kernel\ninitrd /initrd.img\noptions " + cmdline + "\n"
	wantFiles := map[string][]byte{
		"EFI/":                      nil,
		"EFI/BOOT/":                 nil,
		"EFI/BOOT/BOOTX64.EFI":      efiTestLoader,
		"loader/":                   nil,
		"loader/loader.conf":        []byte("default lkpkg.conf\ntimeout 0\neditor no\n"),
		"loader/entries/":           nil,
		"loader/entries/lkpkg.conf": []byte(entry),
		"kernel":                    []byte(kernel),
		"initrd.img":                initrd,
	}
	espOff, espSize := efiCheckGPT(t, raw, rawBytes)
	efiCheckESP(t, raw, rawBytes, espOff, espSize, wantFiles)
	efiCheckWithTools(t, raw, rawBytes[espOff:espOff+espSize], wantFiles)
	efiCheckQcow2(t, raw, int64(len(rawBytes)), filepath.Join(dir, "lk-efi.qcow2"))
	efiCheckISO(t, filepath.Join(dir, "lk-efi.iso"), rawBytes[espOff:espOff+espSize], wantFiles, entry)
}

// efiCheckGPT reads the GPT back with go-diskfs and returns where the ESP is.
func efiCheckGPT(t *testing.T, raw string, rawBytes []byte) (espOff, espSize int64) {
	// GPT, read back by go-diskfs.
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table, err := gpt.Read(f, 512, 512)
	if err != nil {
		t.Fatalf("gpt.Read: %v", err)
	}
	if table.RecoveredFromBackup {
		t.Errorf("primary GPT invalid")
	}
	if len(table.Partitions) != 1 {
		t.Fatalf("%d partitions", len(table.Partitions))
	}
	p := table.Partitions[0]
	if p.Type != gpt.EFISystemPartition || p.Start != 2048 || p.Name != "EFI System Partition" || p.Index != 1 {
		t.Errorf("partition %+v", p)
	}
	if int64(len(rawBytes))%(1<<20) != 0 || int64(p.End+1+33)*512 > int64(len(rawBytes)) || (p.End+1)%2048 != 0 {
		t.Errorf("disk %d bytes, partition ends at LBA %d", len(rawBytes), p.End)
	}
	espOff, espSize = int64(p.Start)*512, int64(p.End-p.Start+1)*512
	if rawBytes[510] != 0x55 || rawBytes[511] != 0xAA || rawBytes[446+4] != 0xEE {
		t.Errorf("no protective MBR")
	}
	return espOff, espSize
}

// efiCheckESP reads the FAT32 back with go-diskfs.
func efiCheckESP(t *testing.T, raw string, rawBytes []byte, espOff, espSize int64, wantFiles map[string][]byte) {
	// FAT32, read back by go-diskfs.
	got := efiFATFiles(t, raw, espOff, espSize)
	if len(got) != len(wantFiles) {
		t.Errorf("ESP files %d, want %d: %q", len(got), len(wantFiles), slices.Sorted(mapKeys(got)))
	}
	for name, w := range wantFiles {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("ESP lacks %s (has %q)", name, slices.Sorted(mapKeys(got)))
		case !bytes.Equal(g, w):
			t.Errorf("ESP %s: %d bytes differ from the %d expected", name, len(g), len(w))
		}
	}
	bs := rawBytes[espOff : espOff+512]
	if string(bs[82:90]) != "FAT32   " || string(bs[71:82]) != "LKPKG-EFI  " || binary.LittleEndian.Uint32(bs[67:]) == 0 {
		t.Errorf("boot sector: type %q label %q volume id %#x", bs[82:90], bs[71:82], bs[67:71])
	}
}

// efiCheckWithTools checks the disk and the ESP with the real tools, where
// installed: dosfstools, mtools, gdisk.
func efiCheckWithTools(t *testing.T, raw string, espBytes []byte, wantFiles map[string][]byte) {
	esp := filepath.Join(t.TempDir(), "esp.img")
	if err := os.WriteFile(esp, espBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	if fsck, err := exec.LookPath("fsck.vfat"); err == nil {
		if out, err := exec.Command(fsck, "-n", "-V", esp).CombinedOutput(); err != nil || strings.Contains(string(out), "arning") {
			t.Errorf("fsck.vfat -n: %v\n%s", err, out)
		}
	} else {
		t.Log("fsck.vfat not installed (dosfstools): skipped")
	}
	if mtype, err := exec.LookPath("mtype"); err == nil {
		for _, name := range []string{"loader/entries/lkpkg.conf", "kernel", "EFI/BOOT/BOOTX64.EFI"} {
			out, err := exec.Command(mtype, "-i", esp, "::/"+name).Output()
			if err != nil || !bytes.Equal(out, wantFiles[name]) {
				t.Errorf("mtype %s: %v, %d bytes", name, err, len(out))
			}
		}
		out, err := exec.Command("mdir", "-i", esp, "::/loader").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "loader.conf") || !strings.Contains(string(out), "entries") {
			t.Errorf("mdir ::/loader: %v\n%s", err, out)
		}
	} else {
		t.Log("mtools not installed: skipped")
	}
	if sgdisk, err := exec.LookPath("sgdisk"); err == nil {
		out, err := exec.Command(sgdisk, "-v", raw).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "No problems found") || strings.Contains(string(out), "Caution") {
			t.Errorf("sgdisk -v: %v\n%s", err, out)
		}
		out, err = exec.Command(sgdisk, "-p", raw).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "EF00") {
			t.Errorf("sgdisk -p: %v\n%s", err, out)
		}
	} else {
		t.Log("sgdisk not installed (gdisk): skipped")
	}
}

// efiCheckQcow2 checks that the qcow2 is the same disk, sparse.
func efiCheckQcow2(t *testing.T, raw string, rawSize int64, qc string) {
	qemuImg := outNeedTool(t, "qemu-img", "qemu-utils")
	if out, err := exec.Command(qemuImg, "check", qc).CombinedOutput(); err != nil || !strings.Contains(string(out), "No errors were found") {
		t.Errorf("qemu-img check: %v\n%s", err, out)
	}
	if out, err := exec.Command(qemuImg, "compare", "-f", "raw", "-F", "qcow2", raw, qc).CombinedOutput(); err != nil {
		t.Errorf("qemu-img compare: %v\n%s", err, out)
	}
	if fi, _ := os.Stat(qc); fi.Size() >= rawSize/4 {
		t.Errorf("qcow2 is %d bytes for a %d byte disk: not sparse", fi.Size(), rawSize)
	}
}

// efiCheckISO checks the El Torito EFI entry, whose image is the ESP, and
// the files visible in ISO 9660.
func efiCheckISO(t *testing.T, iso string, espBytes []byte, wantFiles map[string][]byte, entry string) {
	espSize := int64(len(espBytes))
	isoBytes := must(os.ReadFile(iso))(t)
	if string(isoBytes[17*2048+1:17*2048+6]) != "CD001" || !strings.HasPrefix(string(isoBytes[17*2048+7:]), "EL TORITO SPECIFICATION") {
		t.Fatalf("no El Torito boot record")
	}
	cat := isoBytes[int(binary.LittleEndian.Uint32(isoBytes[17*2048+71:]))*2048:]
	var sum uint16
	for i := 0; i < 32; i += 2 {
		sum += binary.LittleEndian.Uint16(cat[i:])
	}
	if cat[0] != 1 || cat[1] != 0xEF || cat[30] != 0x55 || cat[31] != 0xAA || sum != 0 {
		t.Errorf("validation entry % x (checksum %#x)", cat[:32], sum)
	}
	if cat[32] != 0x88 || cat[33] != 0 {
		t.Errorf("default entry % x", cat[32:64])
	}
	lba := int64(binary.LittleEndian.Uint32(cat[40:]))
	if count := binary.LittleEndian.Uint16(cat[38:]); count != 0 && int64(count) != espSize/512 {
		t.Errorf("boot image sector count %d", count)
	}
	if lba*2048+espSize > int64(len(isoBytes)) || !bytes.Equal(isoBytes[lba*2048:lba*2048+espSize], espBytes) {
		t.Errorf("the El Torito image differs from raw-efi's ESP")
	}
	if int64(len(isoBytes)) > lba*2048+espSize+2048 {
		t.Errorf("ISO is %d bytes; the boot image should end it", len(isoBytes))
	}
	isoFiles := efiISOFiles(t, iso)
	for name, w := range wantFiles {
		name = strings.ToUpper(name)
		if g, ok := isoFiles[name]; !ok || !bytes.Equal(g, w) {
			t.Errorf("ISO %s: present %v, %d bytes, want %d", name, ok, len(g), len(w))
		}
	}
	if g := isoFiles["EFIBOOT.IMG"]; !bytes.Equal(g, espBytes) {
		t.Errorf("ISO EFIBOOT.IMG differs from the ESP")
	}
	if isoinfo, err := exec.LookPath("isoinfo"); err == nil {
		out, err := exec.Command(isoinfo, "-d", "-i", iso).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Volume id: LKPKG") || !strings.Contains(string(out), "Bootid 88 (bootable)") {
			t.Errorf("isoinfo -d: %v\n%s", err, out)
		}
		out, err = exec.Command(isoinfo, "-i", iso, "-x", "/LOADER/ENTRIES/LKPKG.CONF;1").Output()
		if err != nil || string(out) != entry {
			t.Errorf("isoinfo -x: %v %q", err, out)
		}
	} else {
		t.Log("isoinfo not installed (genisoimage): skipped")
	}
	if xorriso, err := exec.LookPath("xorriso"); err == nil {
		out, err := exec.Command(xorriso, "-indev", iso, "-report_el_torito", "plain").CombinedOutput()
		if err != nil || !regexpMatch(`El Torito boot img :\s+1\s+UEFI\s+y\s+none`, string(out)) || !strings.Contains(string(out), "/EFIBOOT.IMG") {
			t.Errorf("xorriso -report_el_torito: %v\n%s", err, out)
		}
	} else {
		t.Log("xorriso not installed: skipped")
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// efiISOFiles reads the ISO's files with go-diskfs' reader, names without
// the ";1" version.
func efiISOFiles(t *testing.T, iso string) map[string][]byte {
	t.Helper()
	b, err := file.OpenFromPath(iso, true)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fi, _ := os.Stat(iso)
	fs, err := iso9660.Read(b, fi.Size(), 0, 2048)
	if err != nil {
		t.Fatalf("go-diskfs iso9660.Read: %v", err)
	}
	out := map[string][]byte{}
	for k, v := range efiWalk(t, fs, ".") {
		out[strings.TrimSuffix(strings.TrimSuffix(k, ";1"), ".")] = v
	}
	return out
}

// TestOutputEFIDeterministic: two runs, the same bytes; the ids come from
// the content, so another kernel gives another volume id and GUIDs.
func TestOutputEFIDeterministic(t *testing.T) {
	rootfs, _, _ := outRootfs(t)
	opts := OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64"}
	run := func(rootfs []byte) map[string][]byte {
		dir := t.TempDir()
		files, err := WriteOutputsWith(bytes.NewReader(rootfs), dir, "d", efiAll, opts)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		for _, f := range files {
			out[filepath.Base(f)] = must(os.ReadFile(f))(t)
		}
		return out
	}
	a, b := run(rootfs), run(rootfs)
	if len(a) != 3 {
		t.Fatalf("%d files", len(a))
	}
	for n := range a {
		if !bytes.Equal(a[n], b[n]) {
			t.Errorf("%s differs between two runs", n)
		}
	}
	other := tartest.Tar(t, []tartest.Entry{tartest.File("boot/kernel", "another kernel", 0o644), tartest.File("init", "x", 0o755)})
	c := run(other)
	ids := func(img []byte) ([]byte, []byte) {
		return img[512+56 : 512+72], img[1<<20+67 : 1<<20+71] // disk GUID, FAT volume id
	}
	g1, v1 := ids(a["d-efi.img"])
	g2, v2 := ids(c["d-efi.img"])
	if bytes.Equal(g1, g2) || bytes.Equal(v1, v2) {
		t.Errorf("different content, same ids: GUID % x / % x, volume id % x / % x", g1, g2, v1, v2)
	}
}

func TestOutputEFIOptions(t *testing.T) {
	rootfs, _, _ := outRootfs(t)
	for _, tc := range []struct {
		name string
		opts OutputOptions
		want string
	}{
		{"no bootloader", OutputOptions{Arch: "amd64"}, "need an EFI bootloader"},
		{"unknown arch", OutputOptions{EFIBootloader: efiTestLoader, Arch: "riscv64"}, `"riscv64"`},
		{"no arch, not PE", OutputOptions{EFIBootloader: efiTestLoader}, "no architecture"},
		{"PE of the other arch", OutputOptions{EFIBootloader: efiTestPE(0xAA64), Arch: "amd64"}, "arm64 binary"},
		{"PE of a third arch", OutputOptions{EFIBootloader: efiTestPE(0x14c)}, "neither"},
		{"disk too small", OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64", DiskSize: 8 << 20}, "too small"},
		{"negative disk", OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64", DiskSize: -1}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			old := filepath.Join(dir, "o-efi.img")
			if err := os.WriteFile(old, []byte("previous"), 0o644); err != nil {
				t.Fatal(err)
			}
			files, err := WriteOutputsWith(bytes.NewReader(rootfs), dir, "o", []string{FormatKernelInitrd, FormatRawEFI, FormatISOEFI}, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (files %q), want an error containing %q", err, files, tc.want)
			}
			outOnlyFiles(t, dir, "o-efi.img")
			if b, _ := os.ReadFile(old); string(b) != "previous" {
				t.Errorf("previous output replaced")
			}
		})
	}
	if err := CheckFormatsWith([]string{FormatISOEFI}, OutputOptions{}); err == nil || !strings.Contains(err.Error(), "iso-efi") {
		t.Errorf("CheckFormatsWith without a bootloader: %v", err)
	}
	if err := CheckFormatsWith([]string{FormatKernelInitrd, FormatKernelSquashfs}, OutputOptions{}); err != nil {
		t.Errorf("CheckFormatsWith, no EFI format: %v", err)
	}
}

// TestOutputEFIArm64 and a given disk size: BOOTAA64.EFI, arch from the PE
// header; the disk has the size asked for, the rest unpartitioned.
func TestOutputEFIArm64(t *testing.T) {
	rootfs, _, _ := outRootfs(t)
	dir := t.TempDir()
	loader := efiTestPE(0xAA64)
	if _, err := WriteOutputsWith(bytes.NewReader(rootfs), dir, "a", []string{FormatRawEFI, FormatQcow2EFI}, OutputOptions{EFIBootloader: loader, DiskSize: 100<<20 + 1}); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(dir, "a-efi.img")
	fi, err := os.Stat(raw)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 100<<20+512 {
		t.Errorf("disk %d bytes, want %d", fi.Size(), 100<<20+512)
	}
	f, _ := os.Open(raw)
	defer f.Close()
	table, err := gpt.Read(f, 512, 512)
	if err != nil {
		t.Fatal(err)
	}
	p := table.Partitions[0]
	got := efiFATFiles(t, raw, int64(p.Start)*512, int64(p.End-p.Start+1)*512)
	if !bytes.Equal(got["EFI/BOOT/BOOTAA64.EFI"], loader) {
		t.Errorf("no EFI/BOOT/BOOTAA64.EFI: %q", slices.Sorted(mapKeys(got)))
	}
	if qemuImg, err := exec.LookPath("qemu-img"); err == nil {
		out, err := exec.Command(qemuImg, "info", filepath.Join(dir, "a-efi.qcow2")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "(104858112 bytes)") {
			t.Errorf("qemu-img info: %v\n%s", err, out)
		}
	}
}

// TestOutputEFIAtomic: an error after the initrd was written (no kernel
// for the EFI image) leaves nothing behind.
func TestOutputEFIAtomic(t *testing.T) {
	dir := t.TempDir()
	rootfs := tartest.Tar(t, []tartest.Entry{tartest.File("init", "x", 0o755), tartest.File("boot/cmdline", "c", 0o644)})
	old := filepath.Join(dir, "n-initrd.img")
	if err := os.WriteFile(old, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := WriteOutputsWith(bytes.NewReader(rootfs), dir, "n", []string{FormatKernelInitrd, FormatKernelSquashfs, FormatRawEFI},
		OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64"})
	if err == nil || !strings.Contains(err.Error(), "no boot/kernel") {
		t.Fatalf("got %v", err)
	}
	outOnlyFiles(t, dir, "n-initrd.img")
	if b, _ := os.ReadFile(old); string(b) != "previous" {
		t.Errorf("previous output replaced")
	}
}

var _ = errors.New

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// A command line the loader entry cannot carry fails every EFI format, and
// the build writes nothing (efidisk.LoaderEntry refuses it).
func TestOutputEFIRefusesControlCharacters(t *testing.T) {
	dir := t.TempDir()
	for _, f := range efiAll {
		_, err := WriteOutputsWith(bytes.NewReader(outRootfsWithCmdline(t, "console=ttyS0\x00init=/bin/sh")), dir, "c",
			[]string{FormatKernelInitrd, f}, OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64"})
		if err == nil || !strings.Contains(err.Error(), `control character '\x00' at byte 13`) {
			t.Errorf("%s: err = %v", f, err)
		}
	}
	outOnlyFiles(t, dir)
}
