package debtest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Deb describes a synthetic package.
type Deb struct {
	// Control is the DEBIAN/control text.
	Control string
	// Scripts are the other control members (postinst, conffiles...).
	Scripts map[string]string
	// Files are the data.tar entries, written in this order.
	Files []File
	// ControlCompression and DataCompression are member name suffixes:
	// "", ".gz", ".xz" or ".zst".
	ControlCompression, DataCompression string
}

// File is one tar entry.
type File struct {
	Name     string // as stored, e.g. "./usr/bin/tool" or "./usr/"
	Type     byte   // tar type flag; 0 means tar.TypeReg
	Mode     int64  // 0 means 0644 (0755 for directories)
	Body     string
	Link     string // symlink or hard link target
	Uid, Gid int
	ModTime  time.Time
}

// Member is a raw ar member, for building malformed packages.
type Member struct {
	Name string
	Data []byte
}

// Build returns the .deb file for d, laid out as dpkg-deb does.
func (d Deb) Build() ([]byte, error) {
	ctl := []File{{Name: "./", Type: tar.TypeDir}, {Name: "./control", Body: d.Control}}
	names := make([]string, 0, len(d.Scripts))
	for n := range d.Scripts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ctl = append(ctl, File{Name: "./" + n, Body: d.Scripts[n], Mode: 0o755})
	}
	control, err := Tar(ctl)
	if err != nil {
		return nil, err
	}
	data, err := Tar(d.Files)
	if err != nil {
		return nil, err
	}
	if control, err = Compress(control, d.ControlCompression); err != nil {
		return nil, err
	}
	if data, err = Compress(data, d.DataCompression); err != nil {
		return nil, err
	}
	return Ar(
		Member{"debian-binary", []byte("2.0\n")},
		Member{"control.tar" + d.ControlCompression, control},
		Member{"data.tar" + d.DataCompression, data},
	), nil
}

// Tar returns an uncompressed tar archive of files.
func Tar(files []File) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		h := &tar.Header{
			Name: f.Name, Typeflag: f.Type, Mode: f.Mode, Linkname: f.Link,
			Uid: f.Uid, Gid: f.Gid, Uname: "root", Gname: "root",
			ModTime: f.ModTime, Format: tar.FormatGNU,
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.ModTime.IsZero() {
			h.ModTime = time.Unix(1700000000, 0)
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(f.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if _, err := tw.Write([]byte(f.Body)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Compress compresses b as the member suffix says ("", ".gz", ".xz",
// ".zst").
func Compress(b []byte, suffix string) ([]byte, error) {
	var out bytes.Buffer
	var w io.WriteCloser
	var err error
	switch suffix {
	case "":
		return b, nil
	case ".gz":
		w = gzip.NewWriter(&out)
	case ".xz":
		w, err = xz.NewWriter(&out)
	case ".zst":
		w, err = zstd.NewWriter(&out)
	default:
		return nil, fmt.Errorf("debtest: unsupported compression %q", suffix)
	}
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Ar returns an ar archive of members in the format dpkg-deb writes.
func Ar(members ...Member) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&b, "%-16s%-12s%-6s%-6s%-8s%-10s`\n",
			m.Name, "1700000000", "0", "0", "100644", strconv.Itoa(len(m.Data)))
		b.Write(m.Data)
		if len(m.Data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}
