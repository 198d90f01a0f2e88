// Package tartest builds and reads small tar streams for the tests of the
// layer stage and of the output writers (every writer is fed a rootfs tar).
package tartest

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/assemble/output"
)

// Entry is one tar entry: a header and, for a regular file, its body.
type Entry struct {
	H    tar.Header
	Body string
}

// Mtime is the mtime of the entries File and Dir make.
var Mtime = time.Unix(1700000000, 0)

// File is a regular file.
func File(name, body string, mode int64) Entry {
	return Entry{H: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)), ModTime: Mtime}, Body: body}
}

// Dir is a directory.
func Dir(name string, mode int64) Entry {
	return Entry{H: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: Mtime}}
}

// Tar writes entries, in order, as a tar stream (PAX where the header does
// not say otherwise).
func Tar(t testing.TB, entries []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.H
		if h.Format == tar.FormatUnknown {
			h.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		if _, err := io.WriteString(tw, e.Body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Read returns the entries of the tar stream r, in order, with their data.
func Read(t testing.TB, r io.Reader) []Entry {
	t.Helper()
	var out []Entry
	err := output.EachEntry(r, "reading the tar", func(h *tar.Header, r io.Reader) error {
		body, err := io.ReadAll(r)
		out = append(out, Entry{H: *h, Body: string(body)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Planner is a writer that is told every header (Plan) before it is given
// the entries, as cpio's is.
type Planner interface {
	Plan(h *tar.Header) error
	WriteTarEntry(h *tar.Header, r io.Reader) error
	Close() error
}

// Feed plans every entry of the tar raw with w, then writes them to it and
// closes it.
func Feed(t testing.TB, w Planner, raw []byte) {
	t.Helper()
	plan := func(h *tar.Header, _ io.Reader) error { return w.Plan(h) }
	if err := output.EachEntry(bytes.NewReader(raw), "planning", plan); err != nil {
		t.Fatal(err)
	}
	if err := output.EachEntry(bytes.NewReader(raw), "writing", w.WriteTarEntry); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
