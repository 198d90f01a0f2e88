// Package tartest builds and walks small tar streams for the tests of the
// output writers (every writer is fed a rootfs tar).
package tartest

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
	"time"
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

// Each calls f for every entry of the tar stream r and returns the first
// error, of the stream or of f.
func Each(r io.Reader, f func(h *tar.Header, r io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(h, tr); err != nil {
			return err
		}
	}
}
