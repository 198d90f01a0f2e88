package qemu

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testKernel returns a Linux kernel for arch: $LKPKG_TEST_KERNEL_AMD64 or
// $LKPKG_TEST_KERNEL_ARM64 if set, else Debian's cloud kernel, fetched
// once into the user's cache directory (lkpkg-test/qemu/ARCH; delete it to
// fetch the current one again). The cloud kernels have virtio, both serial
// consoles and initramfs support built in: no modules needed.
func testKernel(t *testing.T, arch string) string {
	t.Helper()
	if p := os.Getenv("LKPKG_TEST_KERNEL_" + strings.ToUpper(arch)); p != "" {
		return p
	}
	base, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("no cache directory for the test kernel (or set LKPKG_TEST_KERNEL_%s): %v", strings.ToUpper(arch), err)
	}
	dir := filepath.Join(base, "lkpkg-test", "qemu", arch)
	if k := findVmlinuz(dir); k != "" {
		return k
	}
	if err := fetchDebianKernel(t, dir, arch); err != nil {
		t.Fatalf("fetching Debian's linux-image-cloud-%s (or set LKPKG_TEST_KERNEL_%s): %v", arch, strings.ToUpper(arch), err)
	}
	k := findVmlinuz(dir)
	if k == "" {
		t.Fatalf("no boot/vmlinuz-* in Debian's linux-image-cloud-%s", arch)
	}
	return k
}

func findVmlinuz(dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "kernel", "boot", "vmlinuz-*"))
	if len(m) == 1 {
		return m[0]
	}
	return ""
}

// fetchDebianKernel downloads the package linux-image-cloud-ARCH depends on
// with apt, and unpacks it into dir/kernel. apt runs on a private state
// (dir/apt) with the host's sources, for arch alone: it needs neither root
// nor `dpkg --add-architecture` for arm64, and leaves the host's apt alone.
func fetchDebianKernel(t *testing.T, dir, arch string) error {
	state := filepath.Join(dir, "apt")
	for _, d := range []string{"lists/partial", "archives/partial"} {
		if err := os.MkdirAll(filepath.Join(state, d), 0o755); err != nil {
			return err
		}
	}
	status := filepath.Join(state, "status")
	if err := os.WriteFile(status, nil, 0o644); err != nil {
		return err
	}
	opts := []string{
		"-o", "Dir::State=" + state, "-o", "Dir::State::Lists=" + filepath.Join(state, "lists"),
		"-o", "Dir::State::status=" + status, "-o", "Dir::Cache=" + state,
		"-o", "Dir::Cache::Archives=" + filepath.Join(state, "archives"),
		"-o", "APT::Architecture=" + arch, "-o", "APT::Architectures=" + arch,
		"-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1", "-o", "Acquire::Languages=none",
	}
	apt := func(tool string, args ...string) ([]byte, error) {
		cmd := exec.Command(tool, append(opts, args...)...)
		cmd.Dir = state
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, stderr.Bytes())
		}
		return out, nil
	}
	t.Logf("fetching Debian's cloud kernel for %s into %s", arch, dir)
	if _, err := apt("apt-get", "-q", "update"); err != nil {
		return err
	}
	meta := "linux-image-cloud-" + arch
	out, err := apt("apt-cache", "depends", meta)
	if err != nil {
		return err
	}
	var pkg string
	for _, l := range strings.Split(string(out), "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(l), "Depends: "); ok && strings.HasPrefix(p, "linux-image-") {
			pkg = p
			break
		}
	}
	if pkg == "" {
		return fmt.Errorf("%s depends on no linux-image-* package:\n%s", meta, out)
	}
	if _, err := apt("apt-get", "-q", "download", pkg+":"+arch); err != nil {
		return err
	}
	debs, _ := filepath.Glob(filepath.Join(state, pkg+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download %s left %d .deb files", pkg, len(debs))
	}
	// Unpack beside, then rename: an interrupted fetch leaves no kernel
	// that a later run would take as complete. Only boot/ is kept (the
	// modules are 100 MB the tests do not need), and apt's state goes.
	tmp, err := os.MkdirTemp(dir, "unpack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if out, err := exec.Command("dpkg-deb", "-x", debs[0], tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("dpkg-deb -x %s: %w: %s", debs[0], err, out)
	}
	kernel := filepath.Join(dir, "kernel")
	os.RemoveAll(kernel)
	if err := os.Mkdir(kernel, 0o755); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(tmp, "boot"), filepath.Join(kernel, "boot")); err != nil {
		return err
	}
	return os.RemoveAll(state)
}
