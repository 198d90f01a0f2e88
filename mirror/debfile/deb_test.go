package debfile_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/mirror/debfile"
	"github.com/lkpkg/lkpkg/mirror/debfile/debtest"
)

const control = "Package: hello\nVersion: 1.0\nArchitecture: amd64\nDescription: greeting\n say hello\n"

var helloFiles = []debtest.File{
	{Name: "./", Type: tar.TypeDir},
	{Name: "./usr/", Type: tar.TypeDir},
	{Name: "./usr/bin/", Type: tar.TypeDir},
	{Name: "./usr/bin/hello", Body: "#!/bin/sh\necho hello\n", Mode: 0o755},
	{Name: "./usr/bin/hi", Type: tar.TypeSymlink, Link: "hello"},
}

// eachDataEntry calls fn for every entry of d's data tar, then reads what
// fn left of the entry, so that the whole member is decoded.
func eachDataEntry(t *testing.T, d *debfile.Deb, fn func(h *tar.Header, r io.Reader)) {
	t.Helper()
	tr, c, err := d.Data()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for h, err := tr.Next(); err != io.EOF; h, err = tr.Next() {
		if err != nil {
			t.Fatal(err)
		}
		fn(h, tr)
		if _, err := io.Copy(io.Discard, tr); err != nil {
			t.Fatal(err)
		}
	}
}

// names lists the entries of a data tar.
func names(t *testing.T, d *debfile.Deb) []string {
	t.Helper()
	var out []string
	eachDataEntry(t, d, func(h *tar.Header, _ io.Reader) { out = append(out, h.Name) })
	return out
}

func TestOpenCompressions(t *testing.T) {
	for _, tt := range []struct{ control, data string }{
		{"", ""}, {".gz", ".gz"}, {".xz", ".xz"}, {".zst", ".zst"}, {".gz", ".xz"}, {".xz", ".zst"},
	} {
		t.Run("control.tar"+tt.control+"+data.tar"+tt.data, func(t *testing.T) {
			d := openBuilt(t, debtest.Deb{
				Control: control, Scripts: map[string]string{"postinst": "#!/bin/sh\n"},
				Files: helloFiles, ControlCompression: tt.control, DataCompression: tt.data,
			})
			if string(d.Control) != control || d.Fields["Package"] != "hello" || d.Format != "2.0" {
				t.Fatalf("control = %q, fields = %q", d.Control, d.Fields)
			}
			if string(d.Scripts["postinst"]) != "#!/bin/sh\n" || len(d.Scripts) != 1 {
				t.Fatalf("scripts = %q", d.Scripts)
			}
			if d.DataMember != "data.tar"+tt.data {
				t.Fatalf("data member = %s", d.DataMember)
			}
			// Data can be read more than once.
			for range 2 {
				got := strings.Join(names(t, d), " ")
				if got != "./ ./usr/ ./usr/bin/ ./usr/bin/hello ./usr/bin/hi" {
					t.Fatalf("data = %s", got)
				}
			}
		})
	}
}

// TestOpenBzip2 covers data.tar.bz2, which Go cannot write: the bzip2
// tool compresses.
func TestOpenBzip2(t *testing.T) {
	bz, err := exec.LookPath("bzip2")
	if err != nil {
		t.Skip("no bzip2 tool to build a data.tar.bz2")
	}
	data, err := debtest.Tar(helloFiles)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bz, "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	ctl, _ := debtest.Tar([]debtest.File{{Name: "./control", Body: control}})
	b := debtest.Ar(debtest.Member{Name: "debian-binary", Data: []byte("2.0\n")},
		debtest.Member{Name: "control.tar", Data: ctl}, debtest.Member{Name: "data.tar.bz2", Data: out})
	d, err := debfile.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(names(t, d)); got != len(helloFiles) {
		t.Fatalf("%d entries", got)
	}
}

func TestOpenErrors(t *testing.T) {
	ctl, _ := debtest.Tar([]debtest.File{{Name: "./control", Body: control}})
	data, _ := debtest.Tar(helloFiles)
	bin := debtest.Member{Name: "debian-binary", Data: []byte("2.0\n")}
	c := debtest.Member{Name: "control.tar", Data: ctl}
	dat := debtest.Member{Name: "data.tar", Data: data}
	good := debtest.Ar(bin, c, dat)
	mkTar := func(f ...debtest.File) []byte { b, _ := debtest.Tar(f); return b }
	tests := []struct {
		name string
		deb  []byte
		err  string
	}{
		{"not ar", []byte("PK\x03\x04 a zip file"), "not an ar archive"},
		{"truncated", good[:len(good)-40], "run past the end"},
		{"truncated header", good[:8+30], "truncated header"},
		{"no debian-binary", debtest.Ar(c, dat), "first ar member is not debian-binary"},
		{"format 3", debtest.Ar(debtest.Member{Name: "debian-binary", Data: []byte("3.0\n")}, c, dat), `unsupported package format "3.0"`},
		{"no control", debtest.Ar(bin, dat), "no control.tar member"},
		{"no data", debtest.Ar(bin, c), "no data.tar member"},
		{"data before control", debtest.Ar(bin, dat, c), "after data member"},
		{"unknown member", debtest.Ar(bin, c, debtest.Member{Name: "evil", Data: nil}, dat), `unknown ar member "evil"`},
		{"unknown compression", debtest.Ar(bin, c, debtest.Member{Name: "data.tar.rar", Data: data}), `unknown ar member "data.tar.rar"`},
		{"mislabelled compression", debtest.Ar(bin, debtest.Member{Name: "control.tar.xz", Data: ctl}, dat), "control.tar.xz"},
		{"no control file", debtest.Ar(bin, debtest.Member{Name: "control.tar", Data: mkTar(debtest.File{Name: "./postinst"})}, dat), "no control file"},
		{"nested control member", debtest.Ar(bin, debtest.Member{Name: "control.tar", Data: mkTar(debtest.File{Name: "./control", Body: control}, debtest.File{Name: "./x/y"})}, dat), "top level"},
		{"symlink control member", debtest.Ar(bin, debtest.Member{Name: "control.tar", Data: mkTar(debtest.File{Name: "./control", Type: '2', Link: "/etc/passwd"})}, dat), "not a regular file"},
		{"bad control", debtest.Ar(bin, debtest.Member{Name: "control.tar", Data: mkTar(debtest.File{Name: "./control", Body: "nonsense\n"})}, dat), "not a field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := debfile.Open(bytes.NewReader(tt.deb), int64(len(tt.deb)))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
	// Signature members ("_gpgorigin") are ignored, as dpkg-deb does.
	signed := debtest.Ar(bin, c, debtest.Member{Name: "_gpgorigin", Data: []byte("sig")}, dat)
	if _, err := debfile.Open(bytes.NewReader(signed), int64(len(signed))); err != nil {
		t.Fatal(err)
	}
}
