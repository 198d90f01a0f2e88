package squashfs

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
	"github.com/lkpkg/lkpkg/assemble/output"
)

// writeImage writes the squashfs of the tar stream b to a temporary file
// and returns the first error of WriteTarEntry or Close.
func writeImage(t *testing.T, b []byte) (err error) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "img"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := output.EachEntry(bytes.NewReader(b), "tar", w.WriteTarEntry); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

func TestWriterErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []tartest.Entry
		want    string
	}{
		{"dangling link", []tartest.Entry{{H: tar.Header{Typeflag: tar.TypeLink, Name: "x", Linkname: "nowhere"}}}, "not earlier"},
		{"escaping name", []tartest.Entry{tartest.File("../x", "x", 0o644)}, "escapes the archive root"},
		{"link to dir", []tartest.Entry{tartest.Dir("d/", 0o755), {H: tar.Header{Typeflag: tar.TypeLink, Name: "x", Linkname: "d"}}}, "directory"},
		{"parent not dir", []tartest.Entry{tartest.File("f", "x", 0o644), tartest.File("f/g", "y", 0o644)}, "not a directory"},
		{"long name", []tartest.Entry{tartest.File(strings.Repeat("a", 257), "x", 0o644)}, "longer than"},
		{"negative mtime", []tartest.Entry{{H: tar.Header{Typeflag: tar.TypeReg, Name: "old", ModTime: time.Unix(-5, 0)}}}, "mtime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := writeImage(t, tartest.Tar(t, tc.entries))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "squashfs: ") {
				t.Fatalf("got %v, want a squashfs error containing %q", err, tc.want)
			}
		})
	}
}
