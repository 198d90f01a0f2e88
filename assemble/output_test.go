package assemble

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
	"github.com/lkpkg/lkpkg/assemble/output"
	"github.com/lkpkg/lkpkg/assemble/output/cpio"
)

// outTarToCPIO converts with a plan, as WriteOutputs does.
func outTarToCPIO(t testing.TB, tarBytes []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	tartest.Feed(t, cpio.NewWriter(&out), tarBytes)
	return out.Bytes()
}

// newcEntry is one parsed newc entry.
type newcEntry struct {
	name                                         string
	ino, mode, uid, gid, nlink, mtime            uint32
	devmaj, devmin, rdevmaj, rdevmin, size, csum uint32
	data                                         []byte
}

// newcParse is an independent small newc reader: it checks magic, field
// syntax, NUL-terminated names, 4-byte alignment and the trailer.
func newcParse(t testing.TB, b []byte) []newcEntry {
	t.Helper()
	var out []newcEntry
	off := 0
	align := func(n int) int { return (n + 3) &^ 3 }
	for {
		if off+110 > len(b) {
			t.Fatalf("newc: truncated header at %d", off)
		}
		if off%4 != 0 {
			t.Fatalf("newc: header at %d not 4-aligned", off)
		}
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			t.Fatalf("newc: bad magic %q at %d", h[:6], off)
		}
		var f [13]uint32
		for i := range f {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("newc: field %d at %d: %v", i, off, err)
			}
			f[i] = uint32(v)
		}
		e := newcEntry{ino: f[0], mode: f[1], uid: f[2], gid: f[3], nlink: f[4], mtime: f[5], size: f[6],
			devmaj: f[7], devmin: f[8], rdevmaj: f[9], rdevmin: f[10], csum: f[12]}
		namesize := int(f[11])
		nameEnd := off + 110 + namesize
		if namesize < 1 || nameEnd > len(b) || b[nameEnd-1] != 0 {
			t.Fatalf("newc: bad name at %d", off)
		}
		e.name = string(b[off+110 : nameEnd-1])
		dataOff := align(nameEnd)
		dataEnd := dataOff + int(e.size)
		if dataEnd > len(b) {
			t.Fatalf("newc: %s: truncated data", e.name)
		}
		e.data = b[dataOff:dataEnd]
		off = align(dataEnd)
		if e.name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("newc: %d bytes after the trailer", len(b)-off)
			}
			return out
		}
		out = append(out, e)
	}
}

func newcByName(es []newcEntry) map[string]newcEntry {
	m := map[string]newcEntry{}
	for _, e := range es {
		m[e.name] = e
	}
	return m
}

func outCPIOTestEntries() []tartest.Entry {
	busybox := strings.Repeat("busybox!", 1000) + "tail+" // 8005 bytes: exercises the data padding
	return []tartest.Entry{
		tartest.Dir("./", 0o755),
		tartest.Dir("bin/", 0o755),
		tartest.File("bin/busybox", busybox, 0o4755),
		{H: tar.Header{Typeflag: tar.TypeLink, Name: "bin/sh", Linkname: "bin/busybox", ModTime: tartest.Mtime}},
		{H: tar.Header{Typeflag: tar.TypeLink, Name: "bin/ash", Linkname: "/bin/sh", ModTime: tartest.Mtime}}, // link to a link
		tartest.Dir("etc/", 0o755),
		tartest.File("etc/hosts", "127.0.0.1 localhost\n", 0o644),
		tartest.File("etc/empty", "", 0o600),
		tartest.Dir("etc/ssl/", 0o700),
		tartest.Dir("etc/init.d/", 0o755),
		{H: tar.Header{Typeflag: tar.TypeSymlink, Name: "etc/mtab", Linkname: "../proc/self/mounts", Mode: 0o777, ModTime: tartest.Mtime}},
		{H: tar.Header{Typeflag: tar.TypeLink, Name: "etc/mtab2", Linkname: "etc/mtab", ModTime: tartest.Mtime}}, // hard link to a symlink
		tartest.Dir("dev/", 0o755),
		{H: tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3, ModTime: tartest.Mtime}},
		{H: tar.Header{Typeflag: tar.TypeBlock, Name: "dev/loop0", Mode: 0o660, Devmajor: 7, Devminor: 0, Gid: 6, ModTime: tartest.Mtime}},
		{H: tar.Header{Typeflag: tar.TypeFifo, Name: "dev/initctl", Mode: 0o600, ModTime: tartest.Mtime}},
		{H: tar.Header{Typeflag: tar.TypeReg, Name: "home/user/.profile", Mode: 0o640, Uid: 1000, Gid: 1000, Size: 6, ModTime: tartest.Mtime.Add(time.Hour)}, Body: "PS1=$\n"},
	}
}

func TestCPIORoundTrip(t *testing.T) {
	entries := outCPIOTestEntries()
	tarBytes := tartest.Tar(t, entries)
	archive := outTarToCPIO(t, tarBytes)
	got := newcParse(t, archive)

	var names []string
	for _, e := range got {
		names = append(names, e.name)
	}
	want := []string{".", "bin", "bin/busybox", "bin/sh", "bin/ash", "etc", "etc/hosts", "etc/empty", "etc/ssl", "etc/init.d",
		"etc/mtab", "etc/mtab2", "dev", "dev/null", "dev/loop0", "dev/initctl", "home", "home/user", "home/user/.profile"}
	if !slices.Equal(names, want) {
		t.Fatalf("names\n got %q\nwant %q", names, want)
	}
	var maxIno uint32
	for _, e := range got {
		if e.ino > maxIno && e.ino != maxIno+1 {
			t.Errorf("%s: ino %d, want %d (assigned in order)", e.name, e.ino, maxIno+1)
		}
		maxIno = max(maxIno, e.ino)
		if e.devmaj != 0 || e.devmin != 0 || e.csum != 0 {
			t.Errorf("%s: dev %d:%d check %d, want zeros", e.name, e.devmaj, e.devmin, e.csum)
		}
	}
	m := newcByName(got)
	busybox := entries[2].Body

	// hard-link group: one inode, nlink 3, data on the last link only
	bb, sh, ash := m["bin/busybox"], m["bin/sh"], m["bin/ash"]
	for _, e := range []newcEntry{bb, sh, ash} {
		if e.mode != 0o104755 || e.nlink != 3 || e.ino != bb.ino || e.mtime != uint32(tartest.Mtime.Unix()) {
			t.Errorf("%s: mode %o nlink %d ino %d mtime %d", e.name, e.mode, e.nlink, e.ino, e.mtime)
		}
	}
	if bb.size != 0 || sh.size != 0 || string(ash.data) != busybox {
		t.Errorf("hard-link data: sizes %d %d %d, want 0 0 %d", bb.size, sh.size, ash.size, len(busybox))
	}

	checks := []struct {
		name        string
		mode, nlink uint32
		data        string
	}{
		{".", 0o40755, 6, ""}, // bin etc dev home
		{"bin", 0o40755, 2, ""},
		{"etc", 0o40755, 4, ""}, // ssl init.d
		{"etc/hosts", 0o100644, 1, "127.0.0.1 localhost\n"},
		{"etc/empty", 0o100600, 1, ""},
		{"etc/ssl", 0o40700, 2, ""},
		{"etc/mtab", 0o120777, 1, "../proc/self/mounts"},
		{"etc/mtab2", 0o120777, 1, "../proc/self/mounts"},
		{"dev/null", 0o20666, 1, ""},
		{"dev/loop0", 0o60660, 1, ""},
		{"dev/initctl", 0o10600, 1, ""},
		{"home", 0o40755, 3, ""}, // implied: root 0755, mtime 0
		{"home/user", 0o40755, 2, ""},
		{"home/user/.profile", 0o100640, 1, "PS1=$\n"},
	}
	for _, c := range checks {
		e, ok := m[c.name]
		if !ok {
			t.Errorf("%s missing", c.name)
			continue
		}
		if e.mode != c.mode || e.nlink != c.nlink || string(e.data) != c.data || e.size != uint32(len(c.data)) {
			t.Errorf("%s: mode %o nlink %d data %q, want %o %d %q", c.name, e.mode, e.nlink, e.data, c.mode, c.nlink, c.data)
		}
	}
	if e := m["dev/null"]; e.rdevmaj != 1 || e.rdevmin != 3 {
		t.Errorf("dev/null rdev %d:%d", e.rdevmaj, e.rdevmin)
	}
	if e := m["dev/loop0"]; e.rdevmaj != 7 || e.rdevmin != 0 || e.gid != 6 {
		t.Errorf("dev/loop0 rdev %d:%d gid %d", e.rdevmaj, e.rdevmin, e.gid)
	}
	if e := m["home/user/.profile"]; e.uid != 1000 || e.gid != 1000 || e.mtime != uint32(tartest.Mtime.Unix()+3600) {
		t.Errorf(".profile uid %d gid %d mtime %d", e.uid, e.gid, e.mtime)
	}
	if e := m["home"]; e.mtime != 0 || e.uid != 0 {
		t.Errorf("implied dir home: mtime %d uid %d", e.mtime, e.uid)
	}
	if e := m["etc/mtab2"]; e.ino == m["etc/mtab"].ino {
		t.Errorf("hard link to a symlink shares the inode; want a node of its own")
	}

	// Same input, same bytes.
	if again := outTarToCPIO(t, tarBytes); !bytes.Equal(again, archive) {
		t.Errorf("cpio output not deterministic")
	}

	outCPIOWithTool(t, archive, busybox)
}

// outCPIOWithTool lists and extracts the archive with GNU cpio, if installed.
func outCPIOWithTool(t *testing.T, archive []byte, busybox string) {
	cpio, err := exec.LookPath("cpio")
	if err != nil {
		t.Log("cpio not installed: skipping the real-tool check")
		return
	}
	list := exec.Command(cpio, "-itv", "--quiet")
	list.Stdin = bytes.NewReader(archive)
	listing, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -itv: %v\n%s", err, listing)
	}
	for _, want := range []string{"bin/busybox", "etc/mtab -> ../proc/self/mounts", "dev/null", "home/user/.profile"} {
		if !strings.Contains(string(listing), want) {
			t.Errorf("cpio -itv lacks %q:\n%s", want, listing)
		}
	}
	if os.Geteuid() != 0 {
		t.Log("not root: skipping extraction (devices)")
		return
	}
	dir := t.TempDir()
	x := exec.Command(cpio, "-idm", "--quiet", "--no-absolute-filenames")
	x.Dir = dir
	x.Stdin = bytes.NewReader(archive)
	if out, err := x.CombinedOutput(); err != nil {
		t.Fatalf("cpio -idm: %v\n%s", err, out)
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Error(err)
		}
		return string(b)
	}
	for _, p := range []string{"bin/busybox", "bin/sh", "bin/ash"} {
		if read(p) != busybox {
			t.Errorf("extracted %s: wrong content", p)
		}
	}
	st := func(p string) os.FileInfo {
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	if !os.SameFile(st("bin/busybox"), st("bin/sh")) || !os.SameFile(st("bin/busybox"), st("bin/ash")) {
		t.Errorf("extracted hard links are not one file")
	}
	if s := st("bin/busybox").Sys().(*syscall.Stat_t); s.Nlink != 3 {
		t.Errorf("bin/busybox nlink %d", s.Nlink)
	}
	if fi := st("bin/busybox"); fi.Mode()&os.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/busybox mode %v", fi.Mode())
	}
	if l, err := os.Readlink(filepath.Join(dir, "etc/mtab")); err != nil || l != "../proc/self/mounts" {
		t.Errorf("etc/mtab -> %q, %v", l, err)
	}
	if fi := st("dev/null"); fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("dev/null mode %v", fi.Mode())
	} else if s := fi.Sys().(*syscall.Stat_t); s.Rdev != 1<<8|3 {
		t.Errorf("dev/null rdev %#x", s.Rdev)
	}
	if fi := st("dev/loop0"); fi.Mode()&os.ModeDevice == 0 || fi.Mode()&os.ModeCharDevice != 0 {
		t.Errorf("dev/loop0 mode %v", fi.Mode())
	}
	if fi := st("dev/initctl"); fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("dev/initctl mode %v", fi.Mode())
	}
	if fi := st("home/user/.profile"); !fi.ModTime().Equal(tartest.Mtime.Add(time.Hour)) || fi.Mode().Perm() != 0o640 {
		t.Errorf(".profile mtime %v mode %v", fi.ModTime(), fi.Mode())
	} else if s := fi.Sys().(*syscall.Stat_t); s.Uid != 1000 || s.Gid != 1000 {
		t.Errorf(".profile owner %d:%d", s.Uid, s.Gid)
	}
	if read("etc/hosts") != "127.0.0.1 localhost\n" || read("etc/empty") != "" {
		t.Errorf("extracted etc files differ")
	}
}

// outRootfs is a small rootfs as the assembler makes it.
func outRootfs(t testing.TB) ([]byte, string, string) {
	kernel := strings.Repeat("\x7fKERNEL\x00", 5000) + "end"
	cmdline := "console=ttyS0 console=tty0 page_poison=1"
	entries := []tartest.Entry{
		tartest.Dir("boot/", 0o755),
		tartest.File("boot/kernel", kernel, 0o644),
		tartest.File("boot/cmdline", cmdline, 0o644),
		tartest.File("boot/System.map", "ffffffff81000000 T _text\n", 0o644),
		tartest.Dir("bin/", 0o755),
		tartest.File("bin/init", "#!/bin/sh\necho hi\n", 0o755),
		{H: tar.Header{Typeflag: tar.TypeLink, Name: "bin/init2", Linkname: "bin/init", ModTime: tartest.Mtime}},
		tartest.Dir("containers/", 0o755),
		tartest.Dir("containers/onboot/", 0o755),
		tartest.Dir("containers/onboot/000-dhcpcd/", 0o755),
		tartest.File("containers/onboot/000-dhcpcd/config.json", `{"ociVersion":"1.0.2"}`, 0o644),
		{H: tar.Header{Typeflag: tar.TypeChar, Name: "dev/console", Mode: 0o600, Devmajor: 5, Devminor: 1, ModTime: tartest.Mtime}},
	}
	return tartest.Tar(t, entries), kernel, cmdline
}

// outGunzipCPIO gunzips one gzip member (the initrd is zero padded to 4
// bytes after it, as LinuxKit's) and parses the cpio.
func outGunzipCPIO(t *testing.T, b []byte) []newcEntry {
	t.Helper()
	if len(b)%4 != 0 {
		t.Errorf("initrd length %d is not a multiple of 4", len(b))
	}
	if b[3] != 0 || b[4] != 0 || b[5] != 0 || b[6] != 0 || b[7] != 0 {
		t.Errorf("gzip header has flags %#x / mtime %x, want none", b[3], b[4:8])
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if h := zr.Header; h.Name != "" || !h.ModTime.IsZero() {
		t.Errorf("gzip header name %q mtime %v", h.Name, h.ModTime)
	}
	return newcParse(t, raw)
}

func TestOutputKernelInitrd(t *testing.T) {
	rootfs, kernel, cmdline := outRootfs(t)
	dir := t.TempDir()
	files, err := WriteOutputs(bytes.NewReader(rootfs), dir, "linuxkit", []string{"kernel+initrd"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "linuxkit-kernel"), filepath.Join(dir, "linuxkit-initrd.img"), filepath.Join(dir, "linuxkit-cmdline")}
	if !slices.Equal(files, want) {
		t.Fatalf("files %q, want %q", files, want)
	}
	outOnlyFiles(t, dir, "linuxkit-kernel", "linuxkit-initrd.img", "linuxkit-cmdline")
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(filepath.Join(dir, n)); fi.Mode().Perm() != outFileMode {
			t.Errorf("%s mode %v", n, fi.Mode())
		}
		return b
	}
	if string(read("linuxkit-kernel")) != kernel {
		t.Errorf("kernel differs")
	}
	if string(read("linuxkit-cmdline")) != cmdline {
		t.Errorf("cmdline differs")
	}
	es := outGunzipCPIO(t, read("linuxkit-initrd.img"))
	m := newcByName(es)
	for n := range m {
		if n == "boot" || strings.HasPrefix(n, "boot/") {
			t.Errorf("initrd has %s", n)
		}
	}
	for _, n := range []string{"bin/init", "bin/init2", "containers/onboot/000-dhcpcd/config.json", "dev", "dev/console"} {
		if _, ok := m[n]; !ok {
			t.Errorf("initrd lacks %s", n)
		}
	}
	if m["bin/init"].nlink != 2 || m["bin/init"].ino != m["bin/init2"].ino || string(m["bin/init2"].data) != "#!/bin/sh\necho hi\n" {
		t.Errorf("hard link in the initrd: %+v %+v", m["bin/init"], m["bin/init2"])
	}
	if m["containers"].nlink != 3 {
		t.Errorf("containers nlink %d, want 3", m["containers"].nlink)
	}
}

func outOnlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := asmOutFiles(t, dir) // sorted by name
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

func TestOutputTarKernelInitrd(t *testing.T) {
	rootfs, kernel, cmdline := outRootfs(t)
	dir := t.TempDir()
	files, err := WriteOutputs(bytes.NewReader(rootfs), dir, "lk", []string{"tar-kernel-initrd", "kernel+initrd", "tar"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 || files[0] != filepath.Join(dir, "lk-initrd.tar") || files[4] != filepath.Join(dir, "lk.tar") {
		t.Fatalf("files %q", files)
	}
	outOnlyFiles(t, dir, "lk-initrd.tar", "lk-kernel", "lk-initrd.img", "lk-cmdline", "lk.tar")
	if b, _ := os.ReadFile(filepath.Join(dir, "lk.tar")); !bytes.Equal(b, rootfs) {
		t.Errorf("tar output differs from the rootfs")
	}
	initrd, _ := os.ReadFile(filepath.Join(dir, "lk-initrd.img"))

	f, err := os.Open(filepath.Join(dir, "lk-initrd.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	if err := output.EachEntry(f, "lk-initrd.tar", func(h *tar.Header, r io.Reader) error {
		names = append(names, h.Name)
		if h.Typeflag != tar.TypeReg || h.Mode != 0o644 || h.ModTime.Unix() != 0 || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: type %c mode %o mtime %v owner %d:%d", h.Name, h.Typeflag, h.Mode, h.ModTime, h.Uid, h.Gid)
		}
		b, _ := io.ReadAll(r)
		switch h.Name {
		case "kernel":
			if string(b) != kernel {
				t.Errorf("kernel differs")
			}
		case "initrd.img":
			if !bytes.Equal(b, initrd) {
				t.Errorf("initrd.img differs from kernel+initrd's")
			}
			outGunzipCPIO(t, b)
		case "cmdline":
			if string(b) != cmdline {
				t.Errorf("cmdline %q", b)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"kernel", "initrd.img", "cmdline"}) {
		t.Errorf("tar-kernel-initrd entries %q", names)
	}
}

func TestOutputUcode(t *testing.T) {
	ucode := outTarToCPIO(t, tartest.Tar(t, []tartest.Entry{tartest.File("kernel/x86/microcode/GenuineIntel.bin", "UCODE", 0o644)}))
	rootfs := tartest.Tar(t, []tartest.Entry{
		tartest.File("boot/kernel", "K", 0o644),
		tartest.File("boot/ucode.cpio", string(ucode), 0o644),
		tartest.File("init", "I", 0o755),
	})
	dir := t.TempDir()
	if _, err := WriteOutputs(bytes.NewReader(rootfs), dir, "u", []string{"kernel+initrd", "tar-kernel-initrd"}); err != nil {
		t.Fatal(err)
	}
	// no cmdline in the rootfs: no cmdline file, as LinuxKit
	outOnlyFiles(t, dir, "u-kernel", "u-initrd.img", "u-initrd.tar")
	img, _ := os.ReadFile(filepath.Join(dir, "u-initrd.img"))
	if !bytes.HasPrefix(img, ucode) {
		t.Fatalf("initrd does not start with the ucode cpio")
	}
	es := outGunzipCPIO(t, img[len(ucode):])
	if len(es) != 1 || es[0].name != "init" {
		t.Errorf("initrd after ucode: %+v", es)
	}
}

func TestOutputDeterminism(t *testing.T) {
	rootfs, _, _ := outRootfs(t)
	formats := SupportedFormats()
	var runs [2]map[string][]byte
	for i := range runs {
		dir := t.TempDir()
		files, err := WriteOutputsWith(bytes.NewReader(rootfs), dir, "d", formats, OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = map[string][]byte{}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			runs[i][filepath.Base(f)] = b
		}
		time.Sleep(1100 * time.Millisecond * time.Duration(1-i)) // a second apart: no wall-clock leaks
	}
	if len(runs[0]) != 9 {
		t.Fatalf("files %d", len(runs[0]))
	}
	for n, b := range runs[0] {
		if !bytes.Equal(b, runs[1][n]) {
			t.Errorf("%s differs between two runs", n)
		}
	}
}

// outFailReader returns its bytes, then an error.
type outFailReader struct {
	r   io.Reader
	err error
}

func (f *outFailReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestOutputAtomic(t *testing.T) {
	rootfs, _, _ := outRootfs(t)
	all := SupportedFormats()
	opts := OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64"}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		r      io.Reader
		wantIs error
	}{
		{"read error", &outFailReader{r: bytes.NewReader(rootfs[:len(rootfs)/2]), err: boom}, boom},
		{"truncated tar", bytes.NewReader(rootfs[:len(rootfs)/2+100]), nil},
		{"bad entry", bytes.NewReader(tartest.Tar(t, []tartest.Entry{tartest.File("ok", "x", 0o644), tartest.File("../escape", "y", 0o644)})), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			old := filepath.Join(dir, "a-kernel")
			if err := os.WriteFile(old, []byte("previous build"), 0o644); err != nil {
				t.Fatal(err)
			}
			files, err := WriteOutputsWith(tc.r, dir, "a", all, opts)
			if err == nil {
				t.Fatalf("no error; wrote %q", files)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v, want %v", err, tc.wantIs)
			}
			if len(files) != 0 {
				t.Errorf("files %q reported on error", files)
			}
			outOnlyFiles(t, dir, "a-kernel") // no partial, no temp
			if b, _ := os.ReadFile(old); string(b) != "previous build" {
				t.Errorf("previous output replaced: %q", b)
			}
		})
	}
}

func TestOutputFormats(t *testing.T) {
	dir := t.TempDir()
	_, err := WriteOutputs(strings.NewReader(""), dir, "x", []string{"tar", "vhdx"})
	if err == nil || !strings.Contains(err.Error(), `"vhdx"`) ||
		!strings.Contains(err.Error(), "supported: tar, kernel+initrd, tar-kernel-initrd, kernel+squashfs, raw-efi, qcow2-efi, iso-efi)") {
		t.Errorf("unknown format: %v", err)
	}
	if len(outNotYet) != 0 {
		t.Errorf("formats still not implemented: %q", outNotYet)
	}
	for _, f := range []string{"kernel+squashfs", "iso-efi", "raw-efi", "qcow2-efi"} {
		if !slices.Contains(SupportedFormats(), f) {
			t.Errorf("%s not supported", f)
		}
	}
	// The EFI formats need a bootloader: WriteOutputs has none to give.
	for _, f := range []string{"iso-efi", "raw-efi", "qcow2-efi"} {
		_, err := WriteOutputs(strings.NewReader(""), dir, "x", []string{f})
		if err == nil || !strings.Contains(err.Error(), "output format "+f+": the EFI output formats need an EFI bootloader") {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := WriteOutputs(strings.NewReader(""), dir, "x", nil); err == nil {
		t.Errorf("no formats: no error")
	}
	if _, err := WriteOutputs(strings.NewReader(""), dir, "a/b", []string{"tar"}); err == nil {
		t.Errorf("base with a slash: no error")
	}
	outOnlyFiles(t, dir)
}

// TestOutputAllFormats writes every format at once: the shared files
// (kernel, cmdline, initrd) are written once, in format order.
func TestOutputAllFormats(t *testing.T) {
	rootfs, kernel, _ := outRootfs(t)
	dir := t.TempDir()
	files, err := WriteOutputsWith(bytes.NewReader(rootfs), dir, "all",
		[]string{"kernel+squashfs", "iso-efi", "kernel+initrd", "raw-efi", "tar", "qcow2-efi", "tar-kernel-initrd", "kernel+squashfs"},
		OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := []string{"all-kernel", "all-squashfs.img", "all-cmdline", "all-efi.iso", "all-initrd.img", "all-efi.img", "all.tar", "all-efi.qcow2", "all-initrd.tar"}
	if !slices.Equal(names, want) {
		t.Errorf("files %q, want %q", names, want)
	}
	outOnlyFiles(t, dir, want...)
	if b, _ := os.ReadFile(filepath.Join(dir, "all-kernel")); string(b) != kernel {
		t.Errorf("kernel differs")
	}
}
