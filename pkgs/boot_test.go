package pkgs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// images/bootcheck.yml, assembled from packages built here (Debian's
// pinned cloud kernel, a busybox init from the real Alpine minirootfs),
// boots under QEMU for amd64 and arm64: the init's marker reaches the
// serial console and the guest powers off, which `lkpkg run qemu` turns
// into exit status 0. The committed bootcheck.lock pins the digests, so
// this also checks that the tree rebuilds bit for bit here.
func TestBootcheckImageBootsInQEMU(t *testing.T) {
	testenv.Integration(t)
	l := sharedLkpkg(t)
	l.run(t, "pkg", "build", "--progress", "plain", "bootcheck", "../kernels/debian-6.1/cloud")
	yml := filepath.Join("..", "images", "bootcheck.yml")
	data, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"bootcheck", "../kernels/debian-6.1/cloud"} {
		if ref := strings.TrimSpace(l.run(t, "pkg", "show-tag", dir)); !strings.Contains(string(data), ref+"\n") {
			t.Fatalf("%s does not name %s: update its tag (`lkpkg pkg show-tag %s`) and run `lkpkg build --update-lock`", yml, ref, dir)
		}
	}
	for _, tc := range []struct{ arch, uname string }{{"amd64", "x86_64"}, {"arm64", "aarch64"}} {
		t.Run(tc.arch, func(t *testing.T) {
			out := t.TempDir()
			l.run(t, "build", "--arch", tc.arch, "--format", "kernel+initrd", "-o", out, yml)
			marker := "LKPKG-BOOT-OK arch=" + tc.uname
			cmd := exec.Command(l.bin, "run", "qemu", "--arch", tc.arch, "--timeout", "5m", "--networking", "none", "--expect", marker, filepath.Join(out, "bootcheck"))
			console, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("lkpkg run qemu: %v\n%s", err, console)
			}
			for _, want := range []string{marker + " kernel=6.1.", "reboot: Power down", "guest powered off"} {
				if !strings.Contains(string(console), want) {
					t.Errorf("console lacks %q:\n%s", want, console)
				}
			}
		})
	}
}
