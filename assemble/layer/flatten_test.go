package layer

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
	"github.com/lkpkg/lkpkg/assemble/layer/layertest"
)

// extractNumeric writes v into a tar numeric field: octal if it fits, else
// GNU base-256.
func extractNumeric(field []byte, v int64) {
	if v < 1<<(3*(len(field)-1)) {
		s := fmt.Sprintf("%0*o", len(field)-1, v)
		copy(field, s)
		field[len(field)-1] = 0
		return
	}
	for i := range field {
		field[i] = 0
	}
	for i := len(field) - 1; i > 0; i-- {
		field[i] = byte(v)
		v >>= 8
	}
	field[0] = 0x80
}

type extractFrag struct {
	off  int64
	data []byte
}

// extractGNUSparse hand-builds an old-GNU sparse entry ('S', sparse map in
// the header, logical size in realsize) followed by the end of the archive;
// archive/tar cannot write sparse files.
func extractGNUSparse(name string, realSize int64, frags []extractFrag) []byte {
	var blk [512]byte
	copy(blk[0:100], name)
	extractNumeric(blk[100:108], 0o644)
	extractNumeric(blk[108:116], 0)
	extractNumeric(blk[116:124], 0)
	var phys []byte
	for _, f := range frags {
		phys = append(phys, f.data...)
	}
	extractNumeric(blk[124:136], int64(len(phys)))
	extractNumeric(blk[136:148], layertest.Mtime.Unix())
	blk[156] = tar.TypeGNUSparse
	copy(blk[257:265], "ustar  \x00")
	for i, f := range frags {
		o := 386 + 24*i
		extractNumeric(blk[o:o+12], f.off)
		extractNumeric(blk[o+12:o+24], int64(len(f.data)))
	}
	extractNumeric(blk[483:495], realSize)
	copy(blk[148:156], "        ")
	sum := 0
	for _, b := range blk {
		sum += int(b)
	}
	copy(blk[148:156], fmt.Sprintf("%06o\x00 ", sum))
	out := append([]byte{}, blk[:]...)
	out = append(out, phys...)
	if r := len(phys) % 512; r != 0 {
		out = append(out, make([]byte, 512-r)...)
	}
	return append(out, make([]byte, 1024)...)
}

// extractRawHeader is a ustar header claiming size bytes, with no data.
func extractRawHeader(name string, size int64) []byte {
	var blk [512]byte
	copy(blk[0:100], name)
	extractNumeric(blk[100:108], 0o644)
	extractNumeric(blk[108:116], 0)
	extractNumeric(blk[116:124], 0)
	extractNumeric(blk[124:136], size)
	extractNumeric(blk[136:148], layertest.Mtime.Unix())
	blk[156] = tar.TypeReg
	copy(blk[257:265], "ustar\x0000")
	copy(blk[148:156], "        ")
	sum := 0
	for _, b := range blk {
		sum += int(b)
	}
	copy(blk[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return append(blk[:], make([]byte, 1024)...)
}

func extractBodyKind(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("file=sha256:%x/%d", sha256.Sum256(b), len(b))
	}
	return "file=" + string(b)
}

// extractRootfs runs Rootfs and returns the output bytes.
func extractRootfs(t testing.TB, img v1.Image, prefix string, opts Options) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := WriteTar(tw, prefix, img, opts); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), nil
}

// extractListTar summarises a Rootfs output as "name kind" lines, in order.
func extractListTar(t testing.TB, b []byte) []string {
	t.Helper()
	var out []string
	for _, e := range tartest.Read(t, bytes.NewReader(b)) {
		h := &e.H
		name := strings.TrimSuffix(h.Name, "/")
		switch h.Typeflag {
		case tar.TypeDir:
			out = append(out, name+" dir")
		case tar.TypeReg:
			out = append(out, name+" "+extractBodyKind([]byte(e.Body)))
		case tar.TypeSymlink:
			out = append(out, name+" sym="+h.Linkname)
		case tar.TypeLink:
			out = append(out, name+" hard="+h.Linkname)
		case tar.TypeChar:
			out = append(out, fmt.Sprintf("%s chr=%d,%d", name, h.Devmajor, h.Devminor))
		case tar.TypeFifo:
			out = append(out, name+" fifo")
		default:
			out = append(out, fmt.Sprintf("%s type=%q", name, h.Typeflag))
		}
	}
	return out
}

type extractCase struct {
	name    string
	layers  [][]byte
	opts    Options
	wantErr error
	want    []string
}

func extractCases(t testing.TB) []extractCase {
	sparse := make([]byte, 10<<20)
	head := bytes.Repeat([]byte("H"), 512)
	mid := bytes.Repeat([]byte("M"), 1000)
	tail := bytes.Repeat([]byte("T"), 512)
	copy(sparse, head)
	copy(sparse[5<<20:], mid)
	copy(sparse[len(sparse)-512:], tail)
	devLayer := layertest.Tar(t, layertest.Dir("dev/"),
		layertest.Dev("dev/console", tar.TypeChar, 5, 1),
		layertest.Dev("dev/fifo", tar.TypeFifo, 0, 0),
		layertest.File("dev/keep", "k"))
	L := func(e ...layertest.Entry) []byte { return layertest.Tar(t, e...) }

	return []extractCase{
		{name: "traversal dotdot", layers: [][]byte{L(layertest.File("../../etc/passwd", "x"))}, wantErr: ErrUnsafePath},
		{name: "traversal inner", layers: [][]byte{L(layertest.File("a/../../x", "x"))}, wantErr: ErrUnsafePath},
		{name: "traversal to canary", layers: [][]byte{L(layertest.Dir("a/"), layertest.File("a/b/../../../canary/pwned", "x"))}, wantErr: ErrUnsafePath},
		{name: "absolute made relative", layers: [][]byte{L(layertest.File("/etc/x", "x"), layertest.File("/../y", "y"))},
			want: []string{"etc dir", "etc/x file=x", "y file=y"}},
		{name: "dot slash and root entries", layers: [][]byte{L(layertest.Dir("./"), layertest.Dir("/"), layertest.Dir("./a/"), layertest.File("./a/b", "b"))},
			want: []string{"a dir", "a/b file=b"}},
		{name: "non-directory at root", layers: [][]byte{L(layertest.Sym("./", "/etc"))}, wantErr: ErrUnsupportedEntry},
		{name: "symlink targets kept verbatim", layers: [][]byte{L(layertest.Sym("evil", "/etc"), layertest.Sym("up", "../../.."))},
			want: []string{"evil sym=/etc", "up sym=../../.."}},
		{name: "symlink escape absolute", layers: [][]byte{L(layertest.Sym("evil", "/etc"), layertest.File("evil/passwd", "x"))}, wantErr: ErrThroughSymlink},
		{name: "symlink escape to canary", layers: [][]byte{L(layertest.Sym("evil", "../canary"), layertest.File("evil/pwned", "x"))}, wantErr: ErrThroughSymlink},
		{name: "symlink escape dotdot", layers: [][]byte{L(layertest.Sym("evil", "../../.."), layertest.Dir("evil/x/"))}, wantErr: ErrThroughSymlink},
		{name: "symlink escape nested", layers: [][]byte{L(layertest.Dir("a/"), layertest.Sym("a/evil", "../../canary"), layertest.File("a/evil/b/pwned", "x"))}, wantErr: ErrThroughSymlink},
		{name: "symlink escape across layers", layers: [][]byte{L(layertest.Sym("evil", "../canary")), L(layertest.File("evil/pwned", "x"))}, wantErr: ErrThroughSymlink},
		{name: "dir swapped for symlink then written through", layers: [][]byte{
			L(layertest.Dir("d/"), layertest.File("d/f", "f")), L(layertest.Sym("d", "../canary")), L(layertest.File("d/pwned", "x"))}, wantErr: ErrThroughSymlink},
		{name: "dir replaced by symlink drops children", layers: [][]byte{L(layertest.Dir("d/"), layertest.File("d/f", "f")), L(layertest.Sym("d", "/tmp"))},
			want: []string{"d sym=/tmp"}},
		{name: "file replaced by dir", layers: [][]byte{L(layertest.File("d", "f")), L(layertest.Dir("d/"), layertest.File("d/x", "x"))},
			want: []string{"d dir", "d/x file=x"}},
		{name: "entry below a file", layers: [][]byte{L(layertest.File("f", "f"), layertest.File("f/x", "x"))}, wantErr: ErrNotDir},
		{name: "hardlink escape", layers: [][]byte{L(layertest.Hard("link", "../../etc/shadow"))}, wantErr: ErrBadHardlink},
		{name: "hardlink absolute outside image", layers: [][]byte{L(layertest.Hard("link", "/etc/shadow"))}, wantErr: ErrBadHardlink},
		{name: "hardlink to symlink", layers: [][]byte{L(layertest.Sym("s", "../canary/file"), layertest.Hard("link", "s"))}, wantErr: ErrBadHardlink},
		{name: "hardlink to missing", layers: [][]byte{L(layertest.Hard("link", "nothere"))}, wantErr: ErrBadHardlink},
		{name: "hardlink to directory", layers: [][]byte{L(layertest.Dir("d/"), layertest.Hard("link", "d"))}, wantErr: ErrBadHardlink},
		{name: "hardlink to device", layers: [][]byte{L(layertest.Dev("c", tar.TypeChar, 1, 3), layertest.Hard("link", "c"))}, wantErr: ErrBadHardlink},
		{name: "hardlink through symlink", layers: [][]byte{L(layertest.Dir("d/"), layertest.File("d/f", "f"), layertest.Sym("s", "d"), layertest.Hard("link", "s/f"))}, wantErr: ErrBadHardlink},
		{name: "hardlink before its target", layers: [][]byte{L(layertest.Hard("link", "f"), layertest.File("f", "f"))}, wantErr: ErrBadHardlink},
		{name: "hardlinks ok", layers: [][]byte{L(layertest.File("a", "data"), layertest.Hard("b", "a"), layertest.Hard("./c", "/a"))},
			want: []string{"a file=data", "b hard=a", "c hard=a"}},
		{name: "hardlink sorting before target carries data", layers: [][]byte{L(layertest.File("z", "data"), layertest.Hard("a", "z"))},
			want: []string{"a file=data", "z hard=a"}},
		{name: "hardlink target deleted later", layers: [][]byte{L(layertest.File("a", "data"), layertest.Hard("b", "a")), L(layertest.File(".wh.a", ""))},
			want: []string{"b file=data"}},
		{name: "hardlink target replaced later", layers: [][]byte{L(layertest.File("a", "old"), layertest.Hard("b", "a")), L(layertest.File("a", "new"))},
			want: []string{"a file=new", "b file=old"}},
		{name: "whiteout file", layers: [][]byte{L(layertest.File("a", "a"), layertest.File("b", "b")), L(layertest.File(".wh.a", ""))},
			want: []string{"b file=b"}},
		{name: "whiteout directory", layers: [][]byte{L(layertest.Dir("d/"), layertest.File("d/x", "x"), layertest.Dir("d/y/"), layertest.File("d/y/z", "z"), layertest.File("e", "e")), L(layertest.File(".wh.d", ""))},
			want: []string{"e file=e"}},
		{name: "opaque directory", layers: [][]byte{
			L(layertest.Dir("d/"), layertest.File("d/x", "x"), layertest.Dir("d/y/"), layertest.File("d/y/z", "z")),
			L(layertest.Dir("d/"), layertest.File("d/.wh..wh..opq", ""), layertest.File("d/new", "n"))},
			want: []string{"d dir", "d/new file=n"}},
		{name: "whiteout hides only lower layers", layers: [][]byte{L(layertest.File("a", "1")), L(layertest.File("a", "2"), layertest.File(".wh.a", ""))},
			want: []string{"a file=2"}},
		{name: "aufs metadata ignored", layers: [][]byte{L(layertest.File("a", "1"), layertest.Dir(".wh..wh.plnk/"), layertest.File(".wh..wh.aufs", ""))},
			want: []string{"a file=1"}},
		{name: "whiteout through symlink", layers: [][]byte{L(layertest.Sym("s", "/etc")), L(layertest.File("s/.wh.passwd", ""))}, wantErr: ErrThroughSymlink},
		{name: "opaque through symlink", layers: [][]byte{L(layertest.Sym("s", "/etc")), L(layertest.File("s/.wh..wh..opq", ""))}, wantErr: ErrThroughSymlink},
		{name: "whiteout of parent", layers: [][]byte{L(layertest.Dir("d/"), layertest.File("d/.wh...", ""))}, wantErr: ErrUnsafePath},
		{name: "devices keep (default)", layers: [][]byte{devLayer},
			want: []string{"dev dir", "dev/console chr=5,1", "dev/fifo fifo", "dev/keep file=k"}},
		{name: "devices skip", layers: [][]byte{devLayer}, opts: Options{Devices: DevicesSkip},
			want: []string{"dev dir", "dev/keep file=k"}},
		{name: "devices skip hides lower file", layers: [][]byte{L(layertest.File("c", "lower")), L(layertest.Dev("c", tar.TypeChar, 1, 3))}, opts: Options{Devices: DevicesSkip},
			want: nil},
		{name: "devices error", layers: [][]byte{devLayer}, opts: Options{Devices: DevicesError}, wantErr: ErrDevice},
		{name: "fifo error", layers: [][]byte{L(layertest.Dev("p", tar.TypeFifo, 0, 0))}, opts: Options{Devices: DevicesError}, wantErr: ErrDevice},
		{name: "header claims 5 GiB", layers: [][]byte{extractRawHeader("big", 5<<30)}, wantErr: ErrFileTooLarge},
		{name: "MaxFileSize option", layers: [][]byte{L(layertest.File("f", strings.Repeat("x", 2048)))}, opts: Options{MaxFileSize: 1024}, wantErr: ErrFileTooLarge},
		{name: "huge sparse 1 TiB", layers: [][]byte{extractGNUSparse("huge", 1<<40, []extractFrag{{off: 1<<40 - 512, data: tail}})}, wantErr: ErrFileTooLarge},
		{name: "sparse 10 MiB", layers: [][]byte{extractGNUSparse("sparse", 10<<20, []extractFrag{{0, head}, {5 << 20, mid}, {10<<20 - 512, tail}})},
			want: []string{"sparse " + extractBodyKind(sparse)}},
		{name: "layer not in walk order (spooled)", layers: [][]byte{L(
			layertest.File("z", "Z"), layertest.File("m.txt", "M"), layertest.Dir("m/"), layertest.File("m/b", "B"), layertest.File("m/a", "A"), layertest.File("a", "A0"))},
			want: []string{"a file=A0", "m dir", "m/a file=A", "m/b file=B", "m.txt file=M", "z file=Z"}},
	}
}

func extractCheckErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	var ee *Error
	if !errors.As(err, &ee) || ee.Layer.Hex == "" || !strings.Contains(err.Error(), ee.Layer.String()) {
		t.Fatalf("error %v does not name the layer digest", err)
	}
	t.Logf("refused: %v", err)
}

func TestWriteTarHostile(t *testing.T) {
	for _, tc := range extractCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			img := layertest.Image(t, tc.layers...)
			out, err := extractRootfs(t, img, "", tc.opts)
			extractCheckErr(t, err, tc.wantErr)
			if tc.wantErr != nil {
				return
			}
			got := extractListTar(t, out)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// extractListDir summarises a tree on disk like extractListTar. Hard links
// show as files; inode sharing is checked separately.
func extractListDir(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch m := fi.Mode(); {
		case m.IsDir():
			out = append(out, rel+" dir")
		case m.IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, rel+" "+extractBodyKind(b))
		case m&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, rel+" sym="+target)
		case m&fs.ModeCharDevice != 0:
			st := fi.Sys().(*syscall.Stat_t)
			out = append(out, fmt.Sprintf("%s chr=%d,%d", rel, (st.Rdev>>8)&0xfff, (st.Rdev&0xff)|((st.Rdev>>12)&0xfff00)))
		case m&fs.ModeNamedPipe != 0:
			out = append(out, rel+" fifo")
		default:
			out = append(out, rel+" other")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func extractSnapshot(t testing.TB, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(&b, "err %v\n", err)
			return nil
		}
		fi, _ := os.Lstat(p)
		fmt.Fprintf(&b, "%s %v %d %v\n", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	return b.String()
}

func TestUnpackHostile(t *testing.T) {
	for _, tc := range extractCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			canary := filepath.Join(tmp, "canary")
			if err := os.MkdirAll(canary, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(canary, "file"), []byte("canary"), 0o644); err != nil {
				t.Fatal(err)
			}
			before := extractSnapshot(t, canary)
			dir := filepath.Join(tmp, "root")

			err := Unpack(dir, layertest.Image(t, tc.layers...), tc.opts)
			if tc.wantErr == nil && err != nil && strings.Contains(err.Error(), "CAP_MKNOD") {
				t.Skipf("no CAP_MKNOD here: %v", err)
			}
			extractCheckErr(t, err, tc.wantErr)

			if after := extractSnapshot(t, canary); after != before {
				t.Fatalf("canary changed:\n%s\nwas:\n%s", after, before)
			}
			ents, _ := os.ReadDir(tmp)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			// Refusals in pass 1 happen before dir is even created.
			if j := strings.Join(names, ","); j != "canary,root" && (tc.wantErr == nil || j != "canary") {
				t.Fatalf("unexpected siblings of dir: %v", names)
			}
			if tc.wantErr != nil {
				return
			}
			// Hard links on disk are files with the target's data, sharing
			// the inode.
			kinds := map[string]string{}
			for _, w := range tc.want {
				n, k, _ := strings.Cut(w, " ")
				kinds[n] = k
			}
			var want []string
			for _, w := range tc.want {
				n, k, _ := strings.Cut(w, " ")
				if target, ok := strings.CutPrefix(k, "hard="); ok {
					k = kinds[target]
					a, _ := os.Stat(filepath.Join(dir, n))
					b, _ := os.Stat(filepath.Join(dir, target))
					if a == nil || b == nil || !os.SameFile(a, b) {
						t.Errorf("%s is not a hard link to %s", n, target)
					}
				}
				want = append(want, n+" "+k)
			}
			got := extractListDir(t, dir)
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestUnpackMetadataAndSparse(t *testing.T) {
	tail := bytes.Repeat([]byte("T"), 512)
	img := layertest.Image(t,
		layertest.Tar(t,
			layertest.Entry{H: tar.Header{Typeflag: tar.TypeDir, Name: "ro/", Mode: 0o555, ModTime: layertest.Mtime}},
			layertest.Entry{H: tar.Header{Typeflag: tar.TypeReg, Name: "ro/suid", Mode: 0o4755, Uid: 1000, Gid: 1001, Size: 2, ModTime: layertest.Mtime}, Body: "hi"},
			layertest.Sym("ro/link", "/nowhere"),
		),
		extractGNUSparse("sparse", 64<<20, []extractFrag{{64<<20 - 512, tail}}),
	)
	dir := filepath.Join(t.TempDir(), "root")
	if err := Unpack(dir, img, Options{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(dir, "ro"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o555 || !fi.ModTime().Equal(layertest.Mtime) {
		t.Errorf("ro: mode %v mtime %v", fi.Mode(), fi.ModTime())
	}
	fi, err = os.Lstat(filepath.Join(dir, "ro/suid"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 || !fi.ModTime().Equal(layertest.Mtime) {
		t.Errorf("suid: mode %v mtime %v", fi.Mode(), fi.ModTime())
	}
	if os.Geteuid() == 0 {
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 1000 || st.Gid != 1001 {
			t.Errorf("suid: owner %d:%d", st.Uid, st.Gid)
		}
	}
	fi, err = os.Lstat(filepath.Join(dir, "ro/link"))
	if err != nil || !fi.ModTime().Equal(layertest.Mtime) {
		t.Errorf("link: %v %v", fi, err)
	}
	fi, err = os.Stat(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Size() != 64<<20 {
		t.Errorf("sparse size %d", fi.Size())
	}
	t.Logf("sparse file: %d bytes, %d KiB allocated", fi.Size(), st.Blocks/2)
	if st.Blocks*512 > 8<<20 {
		t.Errorf("sparse file not sparse on disk: %d blocks", st.Blocks)
	}
}

func TestUnpackRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/", filepath.Join(dir, "etc")); err != nil {
		t.Fatal(err)
	}
	img := layertest.Image(t, layertest.Tar(t, layertest.Dir("etc/"), layertest.File("etc/x", "x")))
	if err := Unpack(dir, img, Options{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v", err)
	}
}

func TestExtractHugeSparseNoAlloc(t *testing.T) {
	img := layertest.Image(t, extractGNUSparse("huge", 1<<40, []extractFrag{{0, []byte("x")}}))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := extractRootfs(t, img, "", Options{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrFileTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
		t.Fatalf("allocated %d bytes refusing a sparse file", d)
	}
	// A limit above the logical size lets it through (streamed): check the
	// header only, not the terabyte of zeros.
	if err := WriteTar(tar.NewWriter(io.Discard), "", layertest.Image(t, extractGNUSparse("s", 3<<20, []extractFrag{{0, []byte("x")}})), Options{MaxFileSize: 4 << 20}); err != nil {
		t.Fatal(err)
	}
}

func TestWriteTarPrefix(t *testing.T) {
	img := layertest.Image(t, layertest.Tar(t, layertest.Dir("etc/"), layertest.File("etc/a", "a"), layertest.Hard("etc/b", "etc/a"), layertest.Sym("lib", "usr/lib")))
	for _, prefix := range []string{"containers/services/getty/rootfs/", "containers/services/getty/rootfs", "./containers/services/getty/rootfs/"} {
		out, err := extractRootfs(t, img, prefix, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := extractListTar(t, out)
		p := "containers/services/getty/rootfs/"
		want := []string{p + "etc dir", p + "etc/a file=a", p + "etc/b hard=" + p + "etc/a", p + "lib sym=usr/lib"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("prefix %q: got:\n%s\nwant:\n%s", prefix, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	for _, bad := range []string{"/abs/", "../up/", "a/../../b"} {
		if _, err := extractRootfs(t, img, bad, Options{}); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
	if _, err := extractRootfs(t, img, "", Options{Devices: "maybe"}); err == nil {
		t.Error("unknown Devices rule accepted")
	}
}

func TestWriteTarDeterministicAndMetadata(t *testing.T) {
	layers := func() [][]byte {
		return [][]byte{
			layertest.Tar(t,
				layertest.Entry{H: tar.Header{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755, Uid: 0, ModTime: layertest.Mtime}},
				layertest.Entry{H: tar.Header{Typeflag: tar.TypeReg, Name: "bin/ping", Mode: 0o4711, Uid: 7, Gid: 8, Uname: "u", Gname: "g", Size: 4, ModTime: time.Unix(1600000000, 123456789),
					AccessTime: time.Unix(1, 0), PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "\x01\x02", "comment": "dropped"}}, Body: "ping"},
				layertest.File("z", "z"), layertest.File("a", "a")),
			layertest.Tar(t, layertest.File("bin/sh", "sh"), layertest.File(".wh.z", "")),
		}
	}
	a, err := extractRootfs(t, layertest.Image(t, layers()...), "x/", Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := extractRootfs(t, layertest.Image(t, layers()...), "x/", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two runs differ")
	}
	var names []string
	for _, e := range tartest.Read(t, bytes.NewReader(a)) {
		h := &e.H
		names = append(names, h.Name)
		if h.Name == "x/bin/ping" {
			if h.Mode != 0o4711 || h.Uid != 7 || h.Gid != 8 || h.Uname != "u" || !h.ModTime.Equal(time.Unix(1600000000, 123456789)) {
				t.Errorf("ping header %+v", h)
			}
			if h.PAXRecords["SCHILY.xattr.security.capability"] != "\x01\x02" || h.PAXRecords["comment"] != "" {
				t.Errorf("ping PAX records %q", h.PAXRecords)
			}
			if !h.AccessTime.IsZero() {
				t.Errorf("access time kept: %v", h.AccessTime)
			}
		}
	}
	if got := strings.Join(names, " "); got != "x/a x/bin/ x/bin/ping x/bin/sh" {
		t.Fatalf("order: %s", got)
	}
}

func TestWriteTarErrorNamesLayerAndEntry(t *testing.T) {
	l0 := layertest.Layer(t, layertest.Tar(t, layertest.Sym("evil", "/etc")))
	l1 := layertest.Layer(t, layertest.Tar(t, layertest.File("ok", "ok"), layertest.File("evil/passwd", "x")))
	img, err := mutate.AppendLayers(empty.Image, l0, l1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = extractRootfs(t, img, "", Options{})
	var ee *Error
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v", err)
	}
	d1, _ := l1.Digest()
	if ee.Index != 1 || ee.Layer != d1 || ee.Entry != "evil/passwd" || !strings.Contains(err.Error(), d1.String()) {
		t.Fatalf("err = %v (%+v)", err, ee)
	}
}

// extractTampered serves another blob under a layer's digest.
type extractTampered struct {
	v1.Layer
	blob []byte
}

func (l extractTampered) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}

func (l extractTampered) Size() (int64, error) { return int64(len(l.blob)), nil }

func TestExtractLayerDigestVerified(t *testing.T) {
	good := layertest.Layer(t, layertest.Tar(t, layertest.File("a", "good")))
	evil := layertest.Blob(t, layertest.Tar(t, layertest.File("a", "evil")))
	img, err := mutate.AppendLayers(empty.Image, extractTampered{Layer: good, blob: evil})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := extractRootfs(t, img, "", Options{}); !errors.Is(err, ErrLayerDigest) {
		t.Fatalf("Rootfs: err = %v", err)
	}
	if err := Unpack(filepath.Join(t.TempDir(), "r"), img, Options{}); !errors.Is(err, ErrLayerDigest) {
		t.Fatalf("Unpack: err = %v", err)
	}

	// The same through an OCI layout on disk (what the lkpkg cache is), whose
	// blobs go-containerregistry reads without verifying.
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img = layertest.Image(t, layertest.Tar(t, layertest.File("a", "good")))
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	h, _ := img.Digest()
	limg, err := p.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := extractRootfs(t, limg, "", Options{}); err != nil {
		t.Fatalf("untampered layout: %v", err)
	}
	ls, _ := img.Layers()
	ld, _ := ls[0].Digest()
	layertest.ReplaceBlob(t, dir, ld, evil)
	if _, err := extractRootfs(t, limg, "", Options{}); !errors.Is(err, ErrLayerDigest) {
		t.Fatalf("tampered layout: err = %v", err)
	}
}
