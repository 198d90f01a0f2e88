package rootfs

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/mirror/debfile/debtest"
)

// TestInstallLayout checks the shape of the output tar: merged /usr,
// links, metadata normalisation, order, and what debroot adds.
func TestInstallLayout(t *testing.T) {
	old, future := time.Unix(1000000000, 0), sde.Add(time.Hour)
	b, res, err := installSynth(t,
		synth{name: "aa", version: "1", extra: "Multi-Arch: same\n", files: []debtest.File{
			{Name: "./", Type: tar.TypeDir},
			{Name: "./bin/", Type: tar.TypeDir},
			{Name: "./bin/tool", Body: "tool", Mode: 0o4755, Uid: 0, Gid: 5, ModTime: old},
			{Name: "./usr/bin/tool-hard", Type: tar.TypeLink, Link: "./bin/tool"},
			{Name: "./usr/bin/a-hard", Type: tar.TypeLink, Link: "./bin/tool"},
			{Name: "./lib/libx.so", Type: tar.TypeSymlink, Link: "../usr/lib/libx.so.1"},
			{Name: "./lib32/x", Body: "32", ModTime: future},
			{Name: "./opt/", Type: tar.TypeDir, Mode: 0o700},
			{Name: "./usr/share/deep/er/file", Body: "deep", Uid: 1000, Gid: 1000},
		}},
		synth{name: "bb", version: "1", arch: "arm64", extra: "Multi-Arch: same\n", files: []debtest.File{
			{Name: "./opt/", Type: tar.TypeDir, Mode: 0o755},
			{Name: "./usr/lib/libx.so.1", Body: "lib"},
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	out, order := readOut(t, b)

	// Order: depth first, each directory before its contents.
	for i := 1; i < len(order); i++ {
		if comparePaths(order[i-1], order[i]) >= 0 {
			t.Fatalf("%s before %s", order[i-1], order[i])
		}
	}
	for _, p := range order {
		for _, d := range parents(p) {
			if out[d].hdr == nil || out[d].hdr.Typeflag != tar.TypeDir {
				t.Fatalf("%s: parent %s missing or not a directory", p, d)
			}
		}
	}
	// Merged /usr: the four links always, lib32 because a ships there.
	for _, top := range []string{"bin", "sbin", "lib", "lib64", "lib32"} {
		h := out[top].hdr
		if h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "usr/"+top || out["usr/"+top].hdr.Typeflag != tar.TypeDir {
			t.Errorf("/%s: %+v", top, h)
		}
	}
	if _, ok := out["libx32"]; ok {
		t.Error("libx32 link without a package using it")
	}
	// Hard links become one file and links to it, the file first.
	if h := out["usr/bin/a-hard"].hdr; h.Typeflag != tar.TypeReg || out["usr/bin/a-hard"].body != "tool" || h.Mode != 0o4755 {
		t.Errorf("a-hard: %+v", h)
	}
	for _, p := range []string{"usr/bin/tool", "usr/bin/tool-hard"} {
		if h := out[p].hdr; h.Typeflag != tar.TypeLink || h.Linkname != "usr/bin/a-hard" {
			t.Errorf("%s: %+v", p, h)
		}
	}
	// A relative symlink that moved with /lib is rewritten.
	if h := out["usr/lib/libx.so"].hdr; h.Linkname != "libx.so.1" {
		t.Errorf("libx.so -> %s", h.Linkname)
	}
	// Metadata: first directory wins, owners numeric, mtimes clamped.
	if h := out["opt"].hdr; h.Mode != 0o700 {
		t.Errorf("opt mode %o", h.Mode)
	}
	if h := out["usr/share/deep/er/file"].hdr; h.Uid != 1000 || h.Gid != 1000 {
		t.Errorf("uid/gid %d/%d", h.Uid, h.Gid)
	}
	if h := out["usr/share/deep/er"].hdr; h.Mode != 0o755 || h.Uid != 0 || !h.ModTime.Equal(sde) {
		t.Errorf("implicit parent %+v", h)
	}
	if h := out["usr/bin/a-hard"].hdr; !h.ModTime.Equal(old) {
		t.Errorf("old mtime became %v", h.ModTime)
	}
	if h := out["usr/lib32/x"].hdr; !h.ModTime.Equal(sde) {
		t.Errorf("future mtime became %v", h.ModTime)
	}
	for _, p := range order {
		h := out[p].hdr
		if h.Uname != "" || h.Gname != "" || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() || len(h.PAXRecords) != 0 {
			t.Errorf("%s: names %q/%q atime %v ctime %v pax %v", p, h.Uname, h.Gname, h.AccessTime, h.ChangeTime, h.PAXRecords)
		}
	}
	// debootstrap's directories and a minimal passwd without base-passwd.
	for p, mode := range map[string]int64{"tmp": 0o1777, "var/tmp": 0o1777, "root": 0o700, "proc": 0o755} {
		if h := out[p].hdr; h == nil || h.Mode != mode {
			t.Errorf("%s: %+v", p, h)
		}
	}
	if got := out["etc/passwd"].body; got != "root:x:0:0:root:/root:/bin/sh\n" {
		t.Errorf("passwd %q", got)
	}
	if got := out["etc/group"].body; got != "root:x:0:\n" {
		t.Errorf("group %q", got)
	}
	// dpkg database: qualified names for Multi-Arch: same, shipped paths.
	if got := out["var/lib/dpkg/arch"].body; got != "amd64\narm64\n" {
		t.Errorf("arch %q", got)
	}
	wantList := "/.\n/bin\n/bin/tool\n/usr/bin/tool-hard\n/usr/bin/a-hard\n/lib/libx.so\n/lib32/x\n/opt\n/usr/share/deep/er/file\n"
	if got := out["var/lib/dpkg/info/aa:amd64.list"].body; got != wantList {
		t.Errorf("aa:amd64.list %q, want %q", got, wantList)
	}
	if _, ok := out["var/lib/dpkg/info/bb:arm64.list"]; !ok {
		t.Error("no bb:arm64.list")
	}
	st := status(t, out)
	if len(st) != 2 || st["aa"]["Status"] != "install ok installed" || st["bb"]["Architecture"] != "arm64" {
		t.Errorf("status %q", st)
	}
	if res.Files != countFiles(out) || len(res.Packages) != 2 || res.Packages[1] != (InstalledPackage{"bb", "1", "arm64"}) {
		t.Errorf("result %+v", res)
	}
}

func countFiles(out map[string]outEntry) int {
	n := 0
	for _, e := range out {
		if e.hdr.Typeflag != tar.TypeDir {
			n++
		}
	}
	return n
}

func TestInstallConffiles(t *testing.T) {
	dir := t.TempDir()
	deb := debtest.Write(t, dir, "c.deb", debtest.Deb{
		Control: "Package: cc\nVersion: 1\nArchitecture: all\nDescription: d\n",
		Scripts: map[string]string{"conffiles": "/etc/c.conf\nremove-on-upgrade /etc/old.conf\n", "md5sums": "x  usr/bin/c\n"},
		Files:   []debtest.File{reg("./etc/c.conf", "hello\n"), reg("./usr/bin/c", "x")},
	})
	var b bytes.Buffer
	if _, err := Install(&b, []string{deb}, Options{Arch: "amd64"}); err != nil {
		t.Fatal(err)
	}
	out, _ := readOut(t, b.Bytes())
	// md5("hello\n"), as dpkg records it for the installed conffile.
	if got := status(t, out)["cc"]["Conffiles"]; got != "\n /etc/c.conf b1946ac92492d2347c6235b4d2611184" {
		t.Errorf("Conffiles %q", got)
	}
	for name, want := range map[string]string{"conffiles": "/etc/c.conf\nremove-on-upgrade /etc/old.conf\n", "md5sums": "x  usr/bin/c\n"} {
		if got := out["var/lib/dpkg/info/cc."+name].body; got != want {
			t.Errorf("%s: %q", name, got)
		}
	}
	// The zero SourceDateEpoch is the Unix epoch.
	if h := out["etc/c.conf"].hdr; h.ModTime.Unix() != 0 {
		t.Errorf("mtime %v", h.ModTime)
	}
}

func TestInstallAlternatives(t *testing.T) {
	ua := func(link, name, path, prio string, slaves ...string) string {
		s := "update-alternatives --install " + link + " " + name + " " + path + " " + prio
		for i := 0; i+2 < len(slaves); i += 3 {
			s += " \\\n  --slave " + slaves[i] + " " + slaves[i+1] + " " + slaves[i+2]
		}
		return "#!/bin/sh\nset -e\n" + s + "\n"
	}
	// nano ships its binary at bin and offers it as the editor at prio,
	// with a man page slave and a slave whose target is missing.
	nano := func(bin, prio string) synth {
		return synth{name: "nano", version: "1", files: []debtest.File{reg("."+bin, "n"), reg("./usr/share/man/man1/nano.1.gz", "m")},
			postinst: ua("/usr/bin/editor", "editor", bin, prio,
				"/usr/share/man/man1/editor.1.gz", "editor.1.gz", "/usr/share/man/man1/nano.1.gz",
				"/usr/bin/pico", "pico", "/usr/bin/pico-missing")}
	}
	nanoAlt := synth{name: "nano-alt", version: "1", files: []debtest.File{reg("./usr/bin/a-nano", "a")},
		postinst: ua("/usr/bin/editor", "editor", "/usr/bin/a-nano", "40")}
	_, res, err := installSynth(t)
	if err != nil || len(res.Alternatives) != 0 {
		t.Fatal(res, err)
	}
	b, res, err := installSynth(t, nano("/usr/bin/nano", "40"), nanoAlt,
		synth{name: "vim", version: "1", files: []debtest.File{reg("./usr/bin/vim", "v"), reg("./usr/bin/vi", "real file")},
			postinst: ua("/usr/bin/editor", "editor", "/usr/bin/vim", "30") + ua("/usr/bin/vi", "vi", "/usr/bin/vim", "30")},
		synth{name: "ghost", version: "1", postinst: ua("/usr/bin/editor", "editor", "/usr/bin/ghost", "99")},
	)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := readOut(t, b)
	// nano and nano-alt tie at 40: the smaller path wins.
	want := map[string]string{"/usr/bin/editor": "/usr/bin/a-nano"}
	if len(res.Alternatives) != len(want) || res.Alternatives["/usr/bin/editor"] != want["/usr/bin/editor"] {
		t.Errorf("alternatives %v, want %v", res.Alternatives, want)
	}
	for p, target := range map[string]string{"usr/bin/editor": "/etc/alternatives/editor", "etc/alternatives/editor": "/usr/bin/a-nano"} {
		if h := out[p].hdr; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target {
			t.Errorf("%s: %+v", p, h)
		}
	}
	// The real file at /usr/bin/vi stays; the missing ghost is skipped.
	if out["usr/bin/vi"].body != "real file" {
		t.Error("vi replaced")
	}
	if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "ghost: alternative editor -> /usr/bin/ghost skipped: /usr/bin/ghost is not installed") ||
		!strings.Contains(res.Warnings[1], "vim: alternative vi: not replacing /usr/bin/vi with a link (package vim 1 ships it as a file)") {
		t.Errorf("warnings %q", res.Warnings)
	}
	wantDB := "auto\n/usr/bin/editor\neditor.1.gz\n/usr/share/man/man1/editor.1.gz\npico\n/usr/bin/pico\n\n" +
		"/usr/bin/a-nano\n40\n\n\n" +
		"/usr/bin/nano\n40\n/usr/share/man/man1/nano.1.gz\n/usr/bin/pico-missing\n" +
		"/usr/bin/vim\n30\n\n\n\n"
	if got := out["var/lib/dpkg/alternatives/editor"].body; got != wantDB {
		t.Errorf("alternatives db %q\nwant %q", got, wantDB)
	}
	// Raise nano (shipped in /bin): its slaves come along, but not the
	// missing one.
	b, res, err = installSynth(t, nano("/bin/nano", "50"), nanoAlt)
	if err != nil {
		t.Fatal(err)
	}
	out, _ = readOut(t, b)
	if res.Alternatives["/usr/bin/editor"] != "/bin/nano" || res.Alternatives["/usr/share/man/man1/editor.1.gz"] != "/usr/share/man/man1/nano.1.gz" || len(res.Alternatives) != 2 {
		t.Errorf("alternatives %v", res.Alternatives)
	}
	if _, ok := out["usr/bin/pico"]; ok {
		t.Error("link to a missing slave")
	}
}

func TestInstallDeterministic(t *testing.T) {
	pkgs := []synth{
		{name: "aa", version: "1", files: []debtest.File{reg("./usr/bin/x", "x"), reg("./etc/a", "a")}},
		{name: "bb", version: "1", files: []debtest.File{reg("./bin/y", "y"), {Name: "./usr/bin/z", Type: tar.TypeLink, Link: "./bin/y"}}},
	}
	first, _, err := installSynth(t, pkgs...)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, _, err := installSynth(t, pkgs...)
		if err != nil || !bytes.Equal(first, again) {
			t.Fatalf("second install differs (err %v)", err)
		}
	}
}

func TestLayer(t *testing.T) {
	dir := t.TempDir()
	deb := synth{name: "aa", version: "1", files: []debtest.File{reg("./usr/bin/x", strings.Repeat("x", 1<<20))}}.write(t, dir)
	opts := Options{Arch: "amd64", SourceDateEpoch: sde}
	var plain bytes.Buffer
	if _, err := Install(&plain, []string{deb}, opts); err != nil {
		t.Fatal(err)
	}
	// layer makes the layer of deb and returns it with its digest.
	layer := func() (v1.Layer, v1.Hash) {
		t.Helper()
		l, res, err := Layer([]string{deb}, opts)
		if err != nil || res.Files == 0 {
			t.Fatal(res, err)
		}
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return l, d
	}
	l1, d1 := layer()
	_, d2 := layer()
	diff, _ := l1.DiffID()
	if d1 != d2 || !strings.HasPrefix(diff.String(), "sha256:") {
		t.Fatalf("digests %v %v", d1, d2)
	}
	for range 2 { // the layer can be read more than once
		rc, err := l1.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if _, err := got.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if !bytes.Equal(got.Bytes(), plain.Bytes()) {
			t.Fatal("layer content differs from Install's tar")
		}
	}
}
