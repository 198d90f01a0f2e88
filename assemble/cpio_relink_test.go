package assemble

import (
	"archive/tar"
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// kernelUnpack models how the kernel unpacks an initramfs
// (init/initramfs.c): clean_path unlinks a name whose type differs, a
// regular file with nlink >= 2 is linked to an earlier name of the same
// inode number, and a regular file is otherwise opened O_CREAT|O_TRUNC, so
// an existing file of the same name is truncated in place. It returns each
// name's final content ("<fifo>" for fifos).
func kernelUnpack(t *testing.T, archive []byte) map[string]string {
	t.Helper()
	type inode struct {
		fifo bool
		data []byte
	}
	names := map[string]*inode{}
	byIno := map[uint64]string{}
	for off := 0; off < len(archive); {
		h := archive[off : off+cpioHdrLen]
		if string(h[:6]) != cpioMagic {
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
		nameStart := off + cpioHdrLen
		name := string(archive[nameStart : nameStart+int(namesize)-1])
		dataStart := (nameStart + int(namesize) + 3) &^ 3
		data := archive[dataStart : dataStart+int(size)]
		off = (dataStart + int(size) + 3) &^ 3
		if name == cpioTrailer {
			break
		}
		typ := mode & 0o170000
		if old, ok := names[name]; ok && (old.fifo != (typ == cpioIFIFO)) {
			delete(names, name) // clean_path: the type differs
		}
		switch typ {
		case cpioIFIFO:
			names[name] = &inode{fifo: true}
		case cpioIFREG:
			if nlink >= 2 {
				if first, ok := byIno[ino]; ok {
					names[name] = names[first] // link, no O_TRUNC
					names[name].data = append(names[name].data, data...)
					continue
				}
				byIno[ino] = name
			}
			if n, ok := names[name]; ok {
				n.data = append(n.data[:0], data...) // O_TRUNC on the existing inode
			} else {
				names[name] = &inode{data: append([]byte(nil), data...)}
			}
		}
	}
	out := map[string]string{}
	for n, i := range names {
		if i.fifo {
			out[n] = "<fifo>"
		} else {
			out[n] = string(i.data)
		}
	}
	return out
}

func cpioFromTar(t *testing.T, entries []extractTE) []byte {
	t.Helper()
	raw := extractTar(t, entries...)
	var buf bytes.Buffer
	w := NewCPIOWriter(&buf)
	for _, pass := range []bool{true, false} {
		tr := tar.NewReader(bytes.NewReader(raw))
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			if pass {
				err = w.Plan(h)
			} else {
				err = w.WriteTarEntry(h, tr)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A later image replacing one member of a hard-link group replaces that
// name only, as unpacking the rootfs tar does: the other members keep the
// old content in the initrd too. A link made after the replacement links
// to the new file.
func TestCPIOReplacingAHardLinkedFile(t *testing.T) {
	link := func(name, target string) extractTE {
		return extractTE{hdr: tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target, Mode: 0o644}}
	}
	for _, tc := range []struct {
		name    string
		entries []extractTE
		want    map[string]string
	}{
		{"replace after the link", []extractTE{
			extractFile("bin/a", "old"), link("bin/b", "bin/a"), extractFile("bin/a", "new"),
		}, map[string]string{"bin/a": "new", "bin/b": "old"}},
		{"link after the replacement", []extractTE{
			extractFile("bin/a", "old"), extractFile("bin/a", "new"), link("bin/b", "bin/a"),
		}, map[string]string{"bin/a": "new", "bin/b": "new"}},
		{"replace the link", []extractTE{
			extractFile("bin/a", "old"), link("bin/b", "bin/a"), extractFile("bin/b", "mine"),
		}, map[string]string{"bin/a": "old", "bin/b": "mine"}},
		{"replace twice, relink", []extractTE{
			extractFile("bin/a", "v1"), link("bin/b", "bin/a"), extractFile("bin/a", "v2"), link("bin/c", "bin/a"), extractFile("bin/a", "v3"),
		}, map[string]string{"bin/a": "v3", "bin/b": "v1", "bin/c": "v2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := kernelUnpack(t, cpioFromTar(t, tc.entries))
			for name, want := range tc.want {
				if got[name] != want {
					t.Errorf("%s = %q, want %q (all: %v)", name, got[name], want, got)
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
