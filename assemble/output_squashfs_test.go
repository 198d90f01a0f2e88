package assemble

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/assemble/output"
	"github.com/lkpkg/lkpkg/assemble/output/squashfs"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
)

// outNeedTool returns the path of a real tool the test checks against. It
// is required: only -short runs may skip without it.
func outNeedTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if testing.Short() {
			t.Skipf("%s not installed (Debian package %s): skipped in -short mode", name, pkg)
		}
		t.Fatalf("%s not installed: apt-get install %s (the output test checks against it)", name, pkg)
	}
	return p
}

// outSquashEntries is a rootfs that exercises the squashfs writer: the
// cpio test entries (hard links, a hard link to a symlink, devices, a fifo,
// implied directories, setuid), files of 0, <1, 1, >1 blocks, sparse
// blocks, a directory of 3000 entries (several directory headers, fragment
// blocks and metadata blocks), a 255-byte name, an entry replaced by a
// later one, and boot/ (left out).
func outSquashEntries() []tartest.Entry {
	rng := rand.New(rand.NewPCG(3, 4))
	noise := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return string(b)
	}
	es := []tartest.Entry{
		tartest.Dir("boot/", 0o755),
		tartest.File("boot/kernel", "KERNEL", 0o644),
		tartest.File("boot/cmdline", "console=ttyS0", 0o644),
	}
	es = append(es, outCPIOTestEntries()...)
	es = append(es,
		tartest.File("etc/hosts", "127.0.0.1 replaced\n", 0o600), // replaces the earlier etc/hosts
		tartest.Dir("usr/share/", 0o755),
		tartest.File("usr/share/big", noise(300000), 0o644),
		tartest.File("usr/share/text", strings.Repeat("compressible text ", 20000), 0o644),
		tartest.File("usr/share/sparse", strings.Repeat("\x00", squashfs.BlockSize)+"x"+strings.Repeat("\x00", squashfs.BlockSize), 0o644),
		tartest.File("usr/share/exact", strings.Repeat("e", squashfs.BlockSize), 0o644),
		tartest.File("usr/share/"+strings.Repeat("n", 255), "long name", 0o644),
		tartest.Entry{H: tar.Header{Typeflag: tar.TypeReg, Name: "usr/share/owned", Mode: 0o2750, Uid: 65534, Gid: 100, Size: 3, ModTime: tartest.Mtime}, Body: "own"},
		tartest.Entry{H: tar.Header{Typeflag: tar.TypeSymlink, Name: "usr/share/abs", Linkname: "/usr/share/big", Mode: 0o777, ModTime: tartest.Mtime}},
		tartest.Entry{H: tar.Header{Typeflag: tar.TypeLink, Name: "usr/share/big2", Linkname: "usr/share/big", ModTime: tartest.Mtime}},
	)
	for i := range 3000 {
		es = append(es, tartest.File(fmt.Sprintf("usr/lib/many/f%04d", i), noise(rng.IntN(700)), 0o644))
	}
	return es
}

// sqModel is what a tar means once extracted: the last entry for a path
// wins, hard links share the entry of their target, parents are implied.
type sqModelEntry struct {
	H    tar.Header
	Body string
	id   int // hard-link identity
}

func sqModel(entries []tartest.Entry) map[string]*sqModelEntry {
	m := map[string]*sqModelEntry{".": {H: tar.Header{Typeflag: tar.TypeDir, Mode: 0o755}}}
	for i, e := range entries {
		name, err := output.CleanName(e.H.Name)
		if err != nil || outIsBoot(e.H.Name) {
			continue
		}
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			if m[d] == nil {
				m[d] = &sqModelEntry{H: tar.Header{Typeflag: tar.TypeDir, Mode: 0o755}}
			}
		}
		if e.H.Typeflag == tar.TypeLink {
			target, _ := output.CleanName(e.H.Linkname)
			m[name] = m[target]
			continue
		}
		if e.H.Typeflag == tar.TypeDir && m[name] != nil {
			m[name].H = e.H
			continue
		}
		m[name] = &sqModelEntry{H: e.H, Body: e.Body, id: i + 1}
	}
	return m
}

func lsMode(h *tar.Header) string {
	var typ byte
	switch h.Typeflag {
	case tar.TypeDir:
		typ = 'd'
	case tar.TypeSymlink:
		typ = 'l'
	case tar.TypeChar:
		typ = 'c'
	case tar.TypeBlock:
		typ = 'b'
	case tar.TypeFifo:
		typ = 'p'
	default:
		typ = '-'
	}
	b := []byte{typ}
	m := h.Mode
	for i, c := range "rwxrwxrwx" {
		if m&(1<<(8-i)) != 0 {
			b = append(b, byte(c))
		} else {
			b = append(b, '-')
		}
	}
	special := func(bit int64, pos int, set, unset byte) {
		if m&bit != 0 {
			if b[pos] == 'x' {
				b[pos] = set
			} else {
				b[pos] = unset
			}
		}
	}
	special(0o4000, 3, 's', 'S')
	special(0o2000, 6, 's', 'S')
	special(0o1000, 9, 't', 'T')
	return string(b)
}

// sqExpectedListing is the `unsquashfs -lln` listing the model should give
// (directory sizes are not compared: they are squashfs' own).
func sqExpectedListing(m map[string]*sqModelEntry) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(m)) {
		e := m[name]
		h := &e.H
		p := "squashfs-root"
		if name != "." {
			p += "/" + name
		}
		size := ""
		switch h.Typeflag {
		case tar.TypeDir:
			size = "-"
		case tar.TypeSymlink:
			size = fmt.Sprint(len(h.Linkname))
			p += " -> " + h.Linkname
		case tar.TypeChar, tar.TypeBlock:
			size = fmt.Sprintf("%d,%d", h.Devmajor, h.Devminor)
		case tar.TypeFifo:
			size = "0"
		default:
			size = fmt.Sprint(len(e.Body))
		}
		mt := h.ModTime
		if mt.IsZero() {
			mt = time.Unix(0, 0)
		}
		out = append(out, fmt.Sprintf("%s %d/%d %s %s %s", lsMode(h), h.Uid, h.Gid, size, mt.UTC().Format("2006-01-02 15:04"), p))
	}
	return out
}

// sqListing runs unsquashfs -lln and normalises its lines like
// sqExpectedListing.
func sqListing(t *testing.T, unsquashfs, img string) []string {
	t.Helper()
	cmd := exec.Command(unsquashfs, "-lln", img)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs -lln: %v\n%s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || len(f[0]) != 10 {
			continue
		}
		size := f[2]
		rest := f[3:]
		if f[0][0] == 'c' || f[0][0] == 'b' { // "1,  3"
			size = strings.TrimSuffix(f[2], ",") + "," + f[3]
			if !strings.HasSuffix(f[2], ",") {
				size = f[2]
			} else {
				rest = f[4:]
			}
		}
		if f[0][0] == 'd' {
			size = "-"
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %s", f[0], f[1], size, strings.Join(rest, " ")))
	}
	slices.Sort(lines)
	return lines
}

func TestOutputKernelSquashfs(t *testing.T) {
	entries := outSquashEntries()
	rootfs := tartest.Tar(t, entries)
	dir := t.TempDir()
	files, err := WriteOutputs(bytes.NewReader(rootfs), dir, "sq", []string{FormatKernelSquashfs})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "sq-kernel"), filepath.Join(dir, "sq-cmdline"), filepath.Join(dir, "sq-squashfs.img")}
	slices.Sort(want)
	if !slices.Equal(slices.Sorted(slices.Values(files)), want) {
		t.Fatalf("files %q, want %q", files, want)
	}
	outOnlyFiles(t, dir, "sq-kernel", "sq-cmdline", "sq-squashfs.img")
	if b, _ := os.ReadFile(filepath.Join(dir, "sq-kernel")); string(b) != "KERNEL" {
		t.Errorf("kernel %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sq-cmdline")); string(b) != "console=ttyS0" {
		t.Errorf("cmdline %q", b)
	}
	img := filepath.Join(dir, "sq-squashfs.img")
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw)%4096 != 0 || string(raw[:4]) != "hsqs" {
		t.Fatalf("image: %d bytes, magic %q", len(raw), raw[:4])
	}

	// Same input, same bytes; also with another number of workers.
	again := t.TempDir()
	if _, err := WriteOutputs(bytes.NewReader(rootfs), again, "sq", []string{FormatKernelSquashfs}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(again, "sq-squashfs.img")); !bytes.Equal(b, raw) {
		t.Errorf("squashfs differs between two runs")
	}

	unsquashfs := outNeedTool(t, "unsquashfs", "squashfs-tools")
	m := sqModel(entries)
	got, wantList := sqListing(t, unsquashfs, img), sqExpectedListing(m)
	slices.Sort(wantList)
	if !slices.Equal(got, wantList) {
		gs, ws := strings.Join(got, "\n"), strings.Join(wantList, "\n")
		for i := 0; i < min(len(got), len(wantList)); i++ {
			if got[i] != wantList[i] {
				t.Errorf("first difference at line %d:\n got %s\nwant %s", i, got[i], wantList[i])
				break
			}
		}
		if len(gs) < 4000 {
			t.Errorf("unsquashfs -lln\n got:\n%s\nwant:\n%s", gs, ws)
		}
		t.Fatalf("listing differs: %d lines, want %d", len(got), len(wantList))
	}

	// Extract and compare contents, hard links, owners and times.
	if os.Geteuid() != 0 {
		t.Log("not root: skipping extraction (devices, owners)")
		return
	}
	// (Not all of usr/lib/many: unsquashfs takes seconds for 3000 files.)
	out := filepath.Join(t.TempDir(), "x")
	some := []string{"bin", "dev", "etc", "home", "usr/share", "usr/lib/many/f0000", "usr/lib/many/f1234", "usr/lib/many/f2999"}
	if b, err := exec.Command(unsquashfs, append([]string{"-no-progress", "-d", out, img}, some...)...).CombinedOutput(); err != nil {
		t.Fatalf("unsquashfs -d: %v\n%s", err, b)
	}
	sqCheckTree(t, out, m, func(name string) bool {
		return !strings.HasPrefix(name, "usr/lib/many/") || slices.Contains(some, name)
	})

	// And the kernel's own reader, where this test may mount (root, loop
	// devices, squashfs in the kernel).
	mnt := t.TempDir()
	if b, err := exec.Command("mount", "-t", "squashfs", "-o", "loop,ro", img, mnt).CombinedOutput(); err != nil {
		t.Logf("cannot mount the squashfs here (%v: %s): skipping the kernel check", err, bytes.TrimSpace(b))
		return
	}
	defer exec.Command("umount", mnt).Run()
	sqCheckTree(t, mnt, m, func(string) bool { return true })
}

// sqCheckTree compares an extracted or mounted tree with the model: owners,
// modes, mtimes, contents, hard links, devices.
func sqCheckTree(t *testing.T, out string, m map[string]*sqModelEntry, include func(string) bool) {
	t.Helper()
	inodes := map[int]uint64{}
	for name, e := range m {
		if !include(name) {
			continue
		}
		p := filepath.Join(out, name)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != e.H.Uid || int(st.Gid) != e.H.Gid {
			t.Errorf("%s: owner %d:%d, want %d:%d", name, st.Uid, st.Gid, e.H.Uid, e.H.Gid)
		}
		if st.Mode&0o7777 != uint32(e.H.Mode&0o7777) && e.H.Typeflag != tar.TypeSymlink {
			t.Errorf("%s: mode %o, want %o", name, st.Mode&0o7777, e.H.Mode&0o7777)
		}
		if e.H.Typeflag != tar.TypeSymlink && e.H.Typeflag != tar.TypeDir && fi.ModTime().Unix() != max(0, e.H.ModTime.Unix()) {
			t.Errorf("%s: mtime %v, want %v", name, fi.ModTime(), e.H.ModTime)
		}
		switch e.H.Typeflag {
		case tar.TypeReg:
			b, err := os.ReadFile(p)
			if err != nil || string(b) != e.Body {
				t.Errorf("%s: content differs (%d bytes, want %d; %v)", name, len(b), len(e.Body), err)
			}
			if ino, ok := inodes[e.id]; ok && ino != st.Ino {
				t.Errorf("%s: not a hard link of its group", name)
			}
			inodes[e.id] = st.Ino
			if nl := slices.Collect(maps.Values(m)); st.Nlink != uint64(countPtr(nl, e)) {
				t.Errorf("%s: nlink %d, want %d", name, st.Nlink, countPtr(nl, e))
			}
		case tar.TypeChar, tar.TypeBlock:
			if maj, mnr := uint64(st.Rdev>>8&0xfff), uint64(st.Rdev&0xff|st.Rdev>>12&0xfff00); maj != uint64(e.H.Devmajor) || mnr != uint64(e.H.Devminor) {
				t.Errorf("%s: device %d:%d, want %d:%d", name, maj, mnr, e.H.Devmajor, e.H.Devminor)
			}
		}
	}
}

func countPtr(all []*sqModelEntry, e *sqModelEntry) int {
	n := 0
	for _, x := range all {
		if x == e {
			n++
		}
	}
	return n
}

// TestSquashfsEmpty: a rootfs of nothing but boot/ gives an empty root.
func TestSquashfsEmpty(t *testing.T) {
	dir := t.TempDir()
	rootfs := tartest.Tar(t, []tartest.Entry{tartest.File("boot/kernel", "K", 0o644)})
	if _, err := WriteOutputs(bytes.NewReader(rootfs), dir, "e", []string{FormatKernelSquashfs}); err != nil {
		t.Fatal(err)
	}
	outOnlyFiles(t, dir, "e-kernel", "e-squashfs.img")
	unsquashfs := outNeedTool(t, "unsquashfs", "squashfs-tools")
	got := sqListing(t, unsquashfs, filepath.Join(dir, "e-squashfs.img"))
	if len(got) != 1 || !strings.HasPrefix(got[0], "drwxr-xr-x 0/0 - 1970-01-01 00:00 squashfs-root") {
		t.Errorf("listing %q", got)
	}
}

var _ = io.EOF
