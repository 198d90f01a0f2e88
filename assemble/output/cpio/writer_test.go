package cpio

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
	"github.com/lkpkg/lkpkg/assemble/output"
)

func TestWriterWithoutPlan(t *testing.T) {
	tarBytes := tartest.Tar(t, []tartest.Entry{
		tartest.File("a", "data", 0o644),
		{H: tar.Header{Typeflag: tar.TypeLink, Name: "b", Linkname: "a"}},
	})
	cw := NewWriter(io.Discard)
	err := output.EachEntry(bytes.NewReader(tarBytes), "tar", cw.WriteTarEntry)
	if err == nil || !strings.Contains(err.Error(), "Plan") {
		t.Fatalf("hard link without a plan: got %v, want an error naming Plan", err)
	}
}

func TestWriterErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    tar.Header
		want string
	}{
		{"escape", tar.Header{Typeflag: tar.TypeReg, Name: "../etc/passwd"}, "escapes"},
		{"dangling link", tar.Header{Typeflag: tar.TypeLink, Name: "x", Linkname: "nowhere"}, "not earlier"},
		{"negative mtime", tar.Header{Typeflag: tar.TypeReg, Name: "old", ModTime: time.Unix(-5, 0)}, "mtime"},
		{"big", tar.Header{Typeflag: tar.TypeReg, Name: "big", Size: 1 << 32}, "4 GiB"},
		{"socket-ish", tar.Header{Typeflag: 'Z', Name: "odd"}, "unsupported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cw := NewWriter(io.Discard)
			err := cw.WriteTarEntry(&tc.h, strings.NewReader(""))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// short data
	cw := NewWriter(io.Discard)
	err := cw.WriteTarEntry(&tar.Header{Typeflag: tar.TypeReg, Name: "short", Size: 10}, strings.NewReader("abc"))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short data: %v", err)
	}
	if err := cw.Close(); err == nil {
		t.Fatalf("Close after a failed entry succeeded")
	}
}
