package pkgs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// images/bootcheck.yml, assembled from packages built here (Debian's
// pinned cloud kernel, a busybox init from the real Alpine minirootfs),
// boots under QEMU for amd64 and arm64, as kernel+initrd and as EFI disks
// (raw, qcow2, ISO) with systemd-boot from pkgs/systemd-boot under OVMF /
// AAVMF: the init's marker reaches the serial console and the guest powers
// off, which `lkpkg run qemu` turns into exit status 0. The committed bootcheck.lock pins the digests, so
// this also checks that the tree rebuilds bit for bit here.
func TestBootcheckImageBootsInQEMU(t *testing.T) {
	testenv.Integration(t)
	l := sharedLkpkg(t)
	l.run(t, "pkg", "build", "--progress", "plain", "bootcheck", "systemd-boot", "../kernels/debian-6.1/cloud")
	bootloader := strings.TrimSpace(l.run(t, "pkg", "show-tag", "systemd-boot"))
	yml := filepath.Join("..", "images", "bootcheck.yml")
	data, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"bootcheck", "systemd-boot", "../kernels/debian-6.1/cloud"} {
		ref := strings.TrimSpace(l.run(t, "pkg", "show-tag", dir))
		inYAML := dir == "systemd-boot" || strings.Contains(string(data), ref+"\n")
		if lock, _ := os.ReadFile(strings.TrimSuffix(yml, ".yml") + ".lock"); !inYAML || !strings.Contains(string(lock), ref+" ") {
			t.Fatalf("%s or its lock does not name %s: update the tag (`lkpkg pkg show-tag %s`) and run `lkpkg build --update-lock --format raw-efi --bootloader ...`", yml, ref, dir)
		}
	}
	for _, tc := range []struct{ arch, uname, format, file string }{
		{"amd64", "x86_64", "kernel+initrd", "bootcheck"},
		{"arm64", "aarch64", "kernel+initrd", "bootcheck"},
		{"amd64", "x86_64", "raw-efi", "bootcheck-efi.img"},
		{"amd64", "x86_64", "qcow2-efi", "bootcheck-efi.qcow2"},
		{"amd64", "x86_64", "iso-efi", "bootcheck-efi.iso"},
		{"arm64", "aarch64", "raw-efi", "bootcheck-efi.img"},
	} {
		t.Run(tc.arch+"/"+tc.format, func(t *testing.T) {
			out := t.TempDir()
			l.run(t, "build", "--arch", tc.arch, "--format", tc.format, "--bootloader", bootloader, "-o", out, yml)
			marker := "LKPKG-BOOT-OK arch=" + tc.uname
			cmd := l.command(t, "run", "qemu", "--arch", tc.arch, "--timeout", "5m", "--networking", "none", "--expect", marker, filepath.Join(out, tc.file))
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
