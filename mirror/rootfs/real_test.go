package rootfs

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/mirror/debfile/debtest"
)

// smallSet is a real bookworm root small enough to install in a blink:
// a shell, awk (an alternative) and the libc they need.
var smallSet = []string{"base-passwd", "dash", "gcc-12-base", "libc6", "libgcc-s1", "mawk"}

func TestInstallRealSmallSet(t *testing.T) {
	pins := debtest.Lookup(t, smallSet...)
	debs := debtest.Fetch(t, pins...)
	opts := Options{Arch: "amd64", SourceDateEpoch: sde}
	var b bytes.Buffer
	res, err := Install(&b, debs, opts)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := readOut(t, b.Bytes())

	symlinks := map[string]string{
		"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64",
		"usr/bin/sh":                     "dash", // shipped by dash as /bin/sh
		"usr/bin/awk":                    "/etc/alternatives/awk",
		"etc/alternatives/awk":           "/usr/bin/mawk",
		"usr/bin/nawk":                   "/etc/alternatives/nawk",
		"etc/alternatives/nawk":          "/usr/bin/mawk",
		"usr/lib64/ld-linux-x86-64.so.2": "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
	}
	for p, target := range symlinks {
		if h := out[p].hdr; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target {
			t.Errorf("%s: want symlink to %s, got %+v", p, target, h)
		}
	}
	for _, p := range []string{"usr/bin/dash", "usr/bin/mawk", "usr/lib/x86_64-linux-gnu/libc.so.6"} {
		if h := out[p].hdr; h == nil || h.Typeflag != tar.TypeReg || h.Size == 0 {
			t.Errorf("%s: %+v", p, h)
		}
	}
	for _, p := range []string{"usr/bin/dash", "usr/bin/mawk"} {
		if out[p].hdr.Mode&0o111 == 0 {
			t.Errorf("%s not executable", p)
		}
	}
	if res.Alternatives["/usr/bin/awk"] != "/usr/bin/mawk" || res.Alternatives["/usr/bin/nawk"] != "/usr/bin/mawk" {
		t.Errorf("alternatives %v", res.Alternatives)
	}
	// base-passwd's preinst copies its masters into /etc.
	for etc, master := range map[string]string{"etc/passwd": "usr/share/base-passwd/passwd.master", "etc/group": "usr/share/base-passwd/group.master"} {
		if got := out[etc].body; got == "" || got != out[master].body || !strings.HasPrefix(got, "root:") {
			t.Errorf("%s = %q", etc, got)
		}
	}
	// dpkg's status lists exactly the packages, installed.
	st := status(t, out)
	if len(st) != len(pins) {
		t.Errorf("status has %d packages, want %d", len(st), len(pins))
	}
	for i, p := range pins {
		s := st[p.Name]
		if s["Version"] != p.Version || s["Architecture"] != p.Arch || s["Status"] != "install ok installed" {
			t.Errorf("status of %s: %q", p.Name, s)
		}
		if res.Packages[i] != (InstalledPackage{p.Name, p.Version, p.Arch}) {
			t.Errorf("result package %d: %+v", i, res.Packages[i])
		}
	}
	if !strings.Contains(out["var/lib/dpkg/info/dash.list"].body, "\n/bin/sh\n") ||
		!strings.Contains(out["var/lib/dpkg/info/libc6:amd64.list"].body, "\n/lib/x86_64-linux-gnu/libc.so.6\n") {
		t.Error("dpkg lists lack the shipped paths")
	}
	// For every path under a merged directory, the link resolves.
	for p := range out {
		if top, _, _ := strings.Cut(p, "/"); mergedDirs[top] && p != top {
			t.Errorf("%s lies under the /%s symlink", p, top)
		}
	}

	// The same packages give the same bytes.
	var again bytes.Buffer
	if _, err := Install(&again, debs, opts); err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(b.Bytes()) != sha256.Sum256(again.Bytes()) {
		t.Fatal("installing the same packages twice gave different tars")
	}

	// And the root works: dash runs awk, through /bin/sh and the
	// alternative.
	dir := extract(t, bytes.NewReader(b.Bytes()))
	if got := chroot(t, dir, `echo one two | awk '{print $2}'`); got != "two\n" {
		t.Fatalf("awk printed %q", got)
	}
}

// TestToolchainClosure is the real proof: it installs the whole pinned
// bookworm closure of gcc, libc6-dev, dash, coreutils, mawk and dpkg (see
// debtest/update-pins.sh), runs the root with chroot, and compiles and
// runs a static C program in it with the installed gcc. dpkg inside the
// root then checks its own database: every package listed, every file
// matching its md5sums.
func TestToolchainClosure(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running the root needs chroot, which needs root")
	}
	pins := debtest.Pins()
	debs := debtest.Fetch(t, pins...)
	var debBytes int64
	for _, p := range pins {
		debBytes += p.Size
	}

	tarPath := filepath.Join(t.TempDir(), "root.tar")
	f, err := os.Create(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := Install(f, debs, Options{Arch: "amd64", SourceDateEpoch: sde})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	size, _ := f.Seek(0, 1)
	t.Logf("installed %d packages (%.1f MB of .debs) in %v: %d files, %.1f MB tar, %d alternatives, warnings %q",
		len(res.Packages), float64(debBytes)/1e6, took.Round(time.Millisecond), res.Files, float64(size)/1e6,
		len(res.Alternatives), res.Warnings)
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	dir := extract(t, f)
	f.Close()

	got := chroot(t, dir, `set -e
printf "int main(){return 0;}" > /tmp/h.c
gcc -static -o /tmp/h /tmp/h.c
/tmp/h
echo compiled-and-ran`)
	if got != "compiled-and-ran\n" {
		t.Fatalf("toolchain: %q", got)
	}
	if got := chroot(t, dir, `dpkg-query -W -f '${db:Status-Abbrev}\n' | sort | uniq -c`); strings.TrimSpace(got) != strconv.Itoa(len(pins))+" ii" {
		t.Errorf("dpkg-query sees %q, want %d packages installed", got, len(pins))
	}
	// --verify prints every file whose content differs from md5sums.
	if got := chroot(t, dir, `dpkg --verify; dpkg --audit; dpkg -S /bin/sh /usr/bin/gcc-12`); got != "dash: /bin/sh\ngcc-12: /usr/bin/gcc-12\n" {
		t.Errorf("dpkg checks: %q", got)
	}
	if got := chroot(t, dir, `readlink -f /usr/bin/cc /usr/bin/awk /lib/cpp`); got != "/usr/bin/x86_64-linux-gnu-gcc-12\n/usr/bin/mawk\n/usr/bin/x86_64-linux-gnu-cpp-12\n" {
		t.Errorf("alternatives resolve to %q", got)
	}
}

// extract unpacks a tar with GNU tar, as root would, into a new directory.
func extract(t *testing.T, r io.Reader) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running the root needs chroot, which needs root")
	}
	dir := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("tar", "--numeric-owner", "-xpf", "-", "-C", dir)
	cmd.Stdin = r
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	return dir
}

// chroot runs a /bin/sh script in the root at dir and returns its output.
func chroot(t *testing.T, dir, script string) string {
	t.Helper()
	cmd := exec.Command("chroot", dir, "/bin/sh", "-c", script)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chroot %s: %v\nstdout: %s\nstderr: %s", script, err, out, stderr.Bytes())
	}
	return string(out)
}
