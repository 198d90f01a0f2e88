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
)

// outRootfsWithCmdline is outRootfs with another boot/cmdline (none if
// empty).
func outRootfsWithCmdline(t *testing.T, cmdline string) []byte {
	t.Helper()
	entries := []outTestEntry{
		outDir("boot/", 0o755),
		outReg("boot/kernel", "KERNEL", 0o644),
	}
	if cmdline != "" {
		entries = append(entries, outReg("boot/cmdline", cmdline, 0o644))
	}
	entries = append(entries, outDir("bin/", 0o755), outReg("bin/init", "#!/bin/sh\n", 0o755))
	return outTar(t, entries)
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

// sdbootEntry models how systemd-boot reads a type #1 loader entry
// (src/boot/boot.c: line_get_key_value, boot_entry_add_type1): the content
// ends at a NUL; lines end at \n or \r; spaces and tabs around a line go;
// lines starting with # are comments; the key ends at the first space or
// tab, and the value starts after the blanks that follow; a value starting
// with `"` on a line ending with `"` loses that pair. It returns every
// value of each key, in order.
func sdbootEntry(content []byte) map[string][]string {
	s := string(content)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	out := map[string][]string{}
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.Trim(line, " \t")
		if line == "" || line[0] == '#' {
			continue
		}
		k := strings.IndexAny(line, " \t")
		if k < 0 {
			continue
		}
		key, value := line[:k], strings.TrimLeft(line[k:], " \t")
		if strings.HasPrefix(value, `"`) && strings.HasSuffix(line, `"`) {
			if len(value) == 1 {
				value = ""
			} else {
				value = value[1 : len(value)-1]
			}
		}
		out[key] = append(out[key], value)
	}
	return out
}

// sdbootOptions is the command line systemd-boot gives the kernel: the
// options lines joined with a space.
func sdbootOptions(content []byte) string {
	return strings.Join(sdbootEntry(content)["options"], " ")
}

// The loader entry gives the kernel the command line as it is, quotes
// included, under systemd-boot's reading of it.
func TestEFILoaderEntryKeepsQuotes(t *testing.T) {
	for _, cmdline := range []string{
		"console=ttyS0",
		`"a=1" b="x y"`,
		`"a=1"`,
		`"a b"`,
		`"a  b"`,
		`"a" "b"`,
		`"x"  y"`,
		`"`,
		`""`,
		`"""`,
		`"a=1 b" c="x y" d`,
		`a="x y"`,
		`"init=/bin/sh" quiet`,
		`quiet "x=1"`,
		"\"a\tb c\"",
		"\"a\t\"b\" c\"",
		"\"a=1\" #b \"c\"",
		`"É=ü" "ß"`,
	} {
		entry, err := efiLoaderEntry([]byte(cmdline))
		if err != nil {
			t.Errorf("%q: %v", cmdline, err)
			continue
		}
		if got := sdbootOptions(entry); got != cmdline {
			t.Errorf("%q: systemd-boot boots with %q\n%s", cmdline, got, entry)
		}
		if e := sdbootEntry(entry); len(e["linux"]) != 1 || e["linux"][0] != "/kernel" || len(e["initrd"]) != 1 || e["initrd"][0] != "/initrd.img" {
			t.Errorf("%q: entry %q", cmdline, e)
		}
	}
	// A command line that starts and ends with a quote and has a space
	// to split at is split there, onto two options lines: neither is
	// unquoted, and they join back to the command line byte for byte.
	entry, _ := efiLoaderEntry([]byte(`"a=1" b="x y"`))
	if want := "options \"a=1\" b=\"x\noptions y\"\n"; !strings.HasSuffix(string(entry), want) {
		t.Errorf("entry %q, want it to end with %q", entry, want)
	}
	// Without one, one more pair of quotes.
	entry, _ = efiLoaderEntry([]byte(`"a=1"`))
	if want := "options \"\"a=1\"\"\n"; !strings.HasSuffix(string(entry), want) {
		t.Errorf("entry %q, want it to end with %q", entry, want)
	}
}

// NUL and control characters other than blanks and line breaks cannot be in
// the loader entry: they are refused, with a clear error, and the build
// writes nothing.
func TestEFILoaderEntryRefusesControls(t *testing.T) {
	for _, cmdline := range []string{"a\x00b", "\x00", "console=ttyS0\x1b[2J", "a\x7f", "a\vb", "a\fb", "a\u0085b", "quiet\x00init=/bin/sh"} {
		entry, err := efiLoaderEntry([]byte(cmdline))
		if err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%q: err = %v, entry %q", cmdline, err, entry)
		}
	}
	// Tabs stay; line breaks become spaces.
	if entry, err := efiLoaderEntry([]byte("a\tb\r\nc\n")); err != nil || sdbootOptions(entry) != "a\tb c" {
		t.Errorf("tab and line breaks: %q, %v", entry, err)
	}

	dir := t.TempDir()
	for _, f := range efiAll {
		_, err := WriteOutputsWith(bytes.NewReader(outRootfsWithCmdline(t, "console=ttyS0\x00init=/bin/sh")), dir, "c",
			[]string{FormatKernelInitrd, f}, OutputOptions{EFIBootloader: efiTestLoader, Arch: "amd64"})
		if err == nil || !strings.Contains(err.Error(), `control character '\x00' at byte 13`) {
			t.Errorf("%s: err = %v", f, err)
		}
	}
	outOnlyFiles(t, dir)
}

// loader.conf turns the console editor of the command line off.
func TestEFILoaderConfNoEditor(t *testing.T) {
	conf := sdbootEntry([]byte(efiLoaderConf))
	if e := conf["editor"]; len(e) != 1 || e[0] != "no" {
		t.Errorf("loader.conf %q: editor %q", efiLoaderConf, e)
	}
	if d := conf["default"]; len(d) != 1 || d[0] != efiEntryName {
		t.Errorf("loader.conf %q: default %q", efiLoaderConf, d)
	}
}
