package assemble

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
)

// outRootfsWithCmdline is outRootfs with another boot/cmdline (none if
// empty).
func outRootfsWithCmdline(t *testing.T, cmdline string) []byte {
	t.Helper()
	entries := []tartest.Entry{
		tartest.Dir("boot/", 0o755),
		tartest.File("boot/kernel", "KERNEL", 0o644),
	}
	if cmdline != "" {
		entries = append(entries, tartest.File("boot/cmdline", cmdline, 0o644))
	}
	entries = append(entries, tartest.Dir("bin/", 0o755), tartest.File("bin/init", "#!/bin/sh\n", 0o755))
	return tartest.Tar(t, entries)
}

// NAME-kernel, NAME-cmdline, NAME-initrd.img and NAME-squashfs.img are one
// set: a build that writes a kernel-bearing format removes the members it
// did not write, so that `lkpkg run qemu DIR/NAME` never boots this build's
// kernel with an earlier build's initrd.
func TestOutputNoStaleBootSet(t *testing.T) {
	dir := t.TempDir()
	rootfs, _, _ := outRootfs(t)
	build := func(formats ...string) {
		t.Helper()
		if _, err := WriteOutputs(bytes.NewReader(rootfs), dir, "n", formats); err != nil {
			t.Fatal(err)
		}
	}
	build(FormatKernelInitrd)
	outOnlyFiles(t, dir, "n-kernel", "n-initrd.img", "n-cmdline")
	build(FormatKernelSquashfs)
	outOnlyFiles(t, dir, "n-kernel", "n-squashfs.img", "n-cmdline")
	build(FormatKernelInitrd)
	outOnlyFiles(t, dir, "n-kernel", "n-initrd.img", "n-cmdline")
	build(FormatKernelInitrd, FormatKernelSquashfs)
	outOnlyFiles(t, dir, "n-kernel", "n-initrd.img", "n-squashfs.img", "n-cmdline")
	// Formats without a kernel leave the set alone.
	build(FormatTar, FormatTarKernelInitrd)
	outOnlyFiles(t, dir, "n-kernel", "n-initrd.img", "n-squashfs.img", "n-cmdline", "n.tar", "n-initrd.tar")
	build(FormatKernelSquashfs)
	outOnlyFiles(t, dir, "n-kernel", "n-squashfs.img", "n-cmdline", "n.tar", "n-initrd.tar")

	// A rootfs without a cmdline: the earlier one goes too.
	if _, err := WriteOutputs(bytes.NewReader(outRootfsWithCmdline(t, "")), dir, "n", []string{FormatKernelInitrd}); err != nil {
		t.Fatal(err)
	}
	outOnlyFiles(t, dir, "n-kernel", "n-initrd.img", "n.tar", "n-initrd.tar")
	// Another name's files are not touched.
	if _, err := WriteOutputs(bytes.NewReader(rootfs), dir, "m", []string{FormatKernelSquashfs}); err != nil {
		t.Fatal(err)
	}
	outOnlyFiles(t, dir, "n-kernel", "n-initrd.img", "n.tar", "n-initrd.tar", "m-kernel", "m-squashfs.img", "m-cmdline")
}

// The outputs get 0666 less the umask, as files made by the shell would:
// under umask 077 they are not readable by others. Each umask is tried in a
// child process started with it (the umask is read once, at start).
func TestOutputModeFollowsUmask(t *testing.T) {
	if u := os.Getenv("LKPKG_TEST_UMASK_CHILD"); u != "" {
		outUmaskChild(t, u)
		return
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to start a child with another umask")
	}
	for _, u := range []string{"077", "002", "022", "027"} {
		cmd := exec.Command(sh, "-c", `umask "$1" && shift && exec "$@"`, "sh", u,
			os.Args[0], "-test.run=^TestOutputModeFollowsUmask$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "LKPKG_TEST_UMASK_CHILD="+u)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "umask child checked") {
			t.Errorf("umask %s: %v\n%s", u, err, out)
		}
	}
}

func outUmaskChild(t *testing.T, u string) {
	mask, err := strconv.ParseUint(u, 8, 32)
	if err != nil {
		t.Fatal(err)
	}
	want := os.FileMode(0o666 &^ mask)
	rootfs, _, _ := outRootfs(t)
	dir := t.TempDir()
	files, err := WriteOutputsWith(bytes.NewReader(rootfs), dir, "u", SupportedFormats(), OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 9 {
		t.Fatalf("files %q", files)
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("umask %s: %s has mode %v, want %v", u, filepath.Base(f), fi.Mode().Perm(), want)
		}
	}
	fmt.Println("umask child checked")
}
