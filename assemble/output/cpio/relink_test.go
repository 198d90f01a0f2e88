package cpio

import (
	"archive/tar"
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
)

// kernelUnpack models how the kernel unpacks an initramfs
// (init/initramfs.c): clean_path unlinks a name whose type differs, a
// regular file with nlink >= 2 is linked to the first name seen with its
// inode number (find_link; a link entry first unlinks its own name, and
// fails, creating nothing, if that first name is gone), and a regular file
// is otherwise opened O_CREAT|O_TRUNC, so an existing file of the same name
// is truncated in place. It returns each name's final content ("<fifo>" for
// fifos, "<dir>" for directories, "<symlink:TARGET>" for symlinks). A link
// to a first name that is no longer a regular file is an error: the kernel
// would link the fifo, directory or symlink (or fail), then open it to write.
func kernelUnpack(t *testing.T, archive []byte) map[string]string {
	t.Helper()
	type inode struct {
		kind uint64 // mode & S_IFMT
		data []byte
	}
	names := map[string]*inode{}
	byIno := map[uint64]string{}
	for off := 0; off < len(archive); {
		h := archive[off : off+headerLen]
		if string(h[:6]) != magic {
			t.Fatalf("bad magic at %d", off)
		}
		field := func(i int) uint64 {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		ino, mode, nlink, size, namesize := field(0), field(1), field(4), field(6), field(11)
		nameStart := off + headerLen
		name := string(archive[nameStart : nameStart+int(namesize)-1])
		dataStart := (nameStart + int(namesize) + 3) &^ 3
		data := archive[dataStart : dataStart+int(size)]
		off = (dataStart + int(size) + 3) &^ 3
		if name == trailer {
			break
		}
		typ := mode & typeMask
		if old, ok := names[name]; ok && old.kind != typ {
			delete(names, name) // clean_path: the type differs
		}
		switch typ {
		case typeFifo:
			names[name] = &inode{kind: typ}
		case typeDir:
			if names[name] == nil {
				names[name] = &inode{kind: typ}
			}
		case typeSymlink:
			names[name] = &inode{kind: typ, data: append([]byte(nil), data...)}
		case typeRegular:
			if nlink >= 2 {
				if first, ok := byIno[ino]; ok {
					delete(names, name) // clean_path(collected, 0)
					target := names[first]
					if target == nil {
						continue // the link fails: nothing is created
					}
					if target.kind != typeRegular {
						t.Errorf("%s: linked to %s, which is no longer a regular file", name, first)
						continue
					}
					names[name] = target // link, no O_TRUNC
					target.data = append(target.data, data...)
					continue
				}
				byIno[ino] = name
			}
			if n, ok := names[name]; ok {
				n.data = append(n.data[:0], data...) // O_TRUNC on the existing inode
			} else {
				names[name] = &inode{kind: typ, data: append([]byte(nil), data...)}
			}
		}
	}
	out := map[string]string{}
	for n, i := range names {
		switch i.kind {
		case typeFifo:
			out[n] = "<fifo>"
		case typeDir:
			out[n] = "<dir>"
		case typeSymlink:
			out[n] = "<symlink:" + string(i.data) + ">"
		default:
			out[n] = string(i.data)
		}
	}
	return out
}

func cpioFromTar(t *testing.T, entries []tartest.Entry) []byte {
	t.Helper()
	raw := tartest.Tar(t, entries)
	var buf bytes.Buffer
	tartest.Feed(t, NewWriter(&buf), raw)
	return buf.Bytes()
}

// A later image replacing one member of a hard-link group replaces that
// name only, as unpacking the rootfs tar does: the other members keep the
// old content in the initrd too. A link made after the replacement links
// to the new file.
func TestCPIOReplacingAHardLinkedFile(t *testing.T) {
	link := func(name, target string) tartest.Entry {
		return tartest.Entry{H: tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target, Mode: 0o644}}
	}
	for _, tc := range []struct {
		name    string
		entries []tartest.Entry
		want    map[string]string
	}{
		{"replace after the link", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), tartest.File("bin/a", "new", 0o644),
		}, map[string]string{"bin/a": "new", "bin/b": "old"}},
		{"link after the replacement", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), tartest.File("bin/a", "new", 0o644), link("bin/b", "bin/a"),
		}, map[string]string{"bin/a": "new", "bin/b": "new"}},
		{"replace the link", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), tartest.File("bin/b", "mine", 0o644),
		}, map[string]string{"bin/a": "old", "bin/b": "mine"}},
		{"replace twice, relink", []tartest.Entry{
			tartest.File("bin/a", "v1", 0o644), link("bin/b", "bin/a"), tartest.File("bin/a", "v2", 0o644), link("bin/c", "bin/a"), tartest.File("bin/a", "v3", 0o644),
		}, map[string]string{"bin/a": "v3", "bin/b": "v1", "bin/c": "v2"}},
		// The first name of a group still open is replaced: the later links
		// (through the other members) keep the old file.
		{"replace the first name, link through another", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), tartest.File("bin/a", "new", 0o644), link("bin/c", "bin/b"),
		}, map[string]string{"bin/a": "new", "bin/b": "old", "bin/c": "old"}},
		{"replace the first name, two members left", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), link("bin/c", "bin/a"), tartest.File("bin/a", "new", 0o644), link("bin/d", "bin/c"),
		}, map[string]string{"bin/a": "new", "bin/b": "old", "bin/c": "old", "bin/d": "old"}},
		{"replace the first name, then the next one", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), link("bin/c", "bin/b"), tartest.File("bin/a", "new", 0o644),
			tartest.File("bin/b", "mine", 0o644), link("bin/d", "bin/c"),
		}, map[string]string{"bin/a": "new", "bin/b": "mine", "bin/c": "old", "bin/d": "old"}},
		{"replace the first name, link to the new one too", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), tartest.File("bin/a", "new", 0o644), link("bin/c", "bin/a"), link("bin/d", "bin/b"),
		}, map[string]string{"bin/a": "new", "bin/b": "old", "bin/c": "new", "bin/d": "old"}},
		{"first name relinked into its own group", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), link("bin/a", "bin/b"),
		}, map[string]string{"bin/a": "old", "bin/b": "old"}},
		{"first name becomes a link elsewhere", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), tartest.File("bin/x", "x", 0o644), link("bin/a", "bin/x"), link("bin/c", "bin/b"),
		}, map[string]string{"bin/a": "x", "bin/x": "x", "bin/b": "old", "bin/c": "old"}},
		{"first name becomes a symlink", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), symlink("bin/a", "b"), link("bin/c", "bin/b"),
		}, map[string]string{"bin/a": "<symlink:b>", "bin/b": "old", "bin/c": "old"}},
		{"first name becomes a directory", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), tartest.Dir("bin/a", 0o755), link("bin/c", "bin/b"),
		}, map[string]string{"bin/a": "<dir>", "bin/b": "old", "bin/c": "old"}},
		{"a non-first member replaced", []tartest.Entry{
			tartest.File("bin/a", "old", 0o644), link("bin/b", "bin/a"), tartest.File("bin/b", "mine", 0o644), link("bin/c", "bin/a"),
		}, map[string]string{"bin/a": "old", "bin/b": "mine", "bin/c": "old"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := kernelUnpack(t, cpioFromTar(t, tc.entries))
			for name, want := range tc.want {
				if v, ok := got[name]; !ok || v != want {
					t.Errorf("%s = %q (present %v), want %q (all: %v)", name, v, ok, want, got)
				}
			}
			for name, v := range got {
				if strings.HasPrefix(name, "bin/") && v == "<fifo>" {
					t.Errorf("%s left as a fifo", name)
				}
			}
		})
	}
}

func symlink(name, target string) tartest.Entry {
	return tartest.Entry{H: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: tartest.Mtime}}
}
