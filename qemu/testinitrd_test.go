package qemu

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// alpineRootfs is the Alpine minirootfs of arch in the shared data beside
// the checkout: a busybox userland for test guests.
func alpineRootfs(t *testing.T, arch string) string {
	t.Helper()
	uname := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[arch]
	name := "alpine-minirootfs-3.19.4-" + uname + ".tar.gz"
	p := filepath.Join(testenv.AlpineDir(t), "minirootfs", name)
	if !isFile(p) {
		t.Fatalf("%s not found (set LKPKG_ALPINE_DIR)", p)
	}
	return p
}

// writeInitrd writes a gzipped newc cpio initramfs: the root filesystem
// tar.gz rootfs, plus /init, a shell script with the given body. The
// writer is this small on purpose: the test must not depend on the
// code whose outputs it boots.
func writeInitrd(t *testing.T, file, rootfs, initBody string) {
	t.Helper()
	in, err := os.Open(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := gzip.NewWriter(out)
	cw := &newcWriter{w: zw}
	files := map[string][]byte{} // for hard links, which newc would need grouped
	testenv.EachTarEntry(t, zr, func(h *tar.Header, r io.Reader) {
		name := strings.TrimPrefix(path.Clean(h.Name), "/")
		if name == "." || name == "init" || name == "dev/console" {
			return
		}
		perm := uint32(h.Mode) & 0o7777
		switch h.Typeflag {
		case tar.TypeDir:
			cw.entry(name, 0o040000|perm, nil)
		case tar.TypeReg:
			data, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			files[name] = data
			cw.entry(name, 0o100000|perm, data)
		case tar.TypeSymlink:
			cw.entry(name, 0o120777, []byte(h.Linkname))
		case tar.TypeLink:
			cw.entry(name, 0o100000|perm, files[strings.TrimPrefix(path.Clean(h.Linkname), "/")])
		}
	})
	// The kernel opens /dev/console for init's stdio before any devtmpfs.
	cw.node("dev/console", 0o020600, 5, 1)
	cw.entry("init", 0o100755, []byte("#!/bin/sh\n"+initBody+"\n"))
	cw.entry("TRAILER!!!", 0, nil)
	if cw.err != nil {
		t.Fatal(cw.err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// newcWriter writes cpio "newc" entries (the format of an initramfs).
type newcWriter struct {
	w   io.Writer
	ino uint32
	n   int64
	err error
}

func (c *newcWriter) entry(name string, mode uint32, data []byte) {
	c.header(name, mode, uint32(len(data)), 0, 0)
	c.write(data)
	c.pad()
}

func (c *newcWriter) node(name string, mode, major, minor uint32) {
	c.header(name, mode, 0, major, minor)
}

func (c *newcWriter) header(name string, mode, size, rmajor, rminor uint32) {
	c.ino++
	nlink := 1
	if mode&0o170000 == 0o040000 {
		nlink = 2
	}
	c.write(fmt.Appendf(nil, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, rmajor, rminor, len(name)+1, 0))
	c.write(append([]byte(name), 0))
	c.pad()
}

func (c *newcWriter) pad() {
	if r := c.n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

func (c *newcWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	var n int
	n, c.err = c.w.Write(b)
	c.n += int64(n)
}

// writeESP writes a raw-efi style disk image: a FAT file system (made by
// mtools' mformat and mcopy) holding the kernel, which Debian builds as an
// EFI application, the initrd, and a startup.nsh that the firmware's UEFI
// shell runs when no boot loader is found.
func writeESP(t *testing.T, file, kernel, initrd, cmdline string) {
	t.Helper()
	nsh := filepath.Join(t.TempDir(), "startup.nsh")
	script := `fs0:\vmlinuz initrd=\initrd.img ` + cmdline + "\r\n"
	if err := os.WriteFile(nsh, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v: %s (install Debian's mtools package)", name, strings.Join(args, " "), err, out)
		}
	}
	run("mformat", "-C", "-i", file, "-T", "131072", "-v", "ESP", "::") // 64 MiB
	run("mcopy", "-i", file, kernel, "::/vmlinuz")
	run("mcopy", "-i", file, initrd, "::/initrd.img")
	run("mcopy", "-i", file, nsh, "::/startup.nsh")
}
