package rootfs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/mirror/debfile/debtest"
)

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
