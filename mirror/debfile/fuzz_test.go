package debfile_test

import (
	"bytes"
	"io"
	"reflect"
	"testing"

	"github.com/lkpkg/lkpkg/mirror/debfile"
	"github.com/lkpkg/lkpkg/mirror/debfile/debtest"
)

// FuzzOpen feeds Open arbitrary bytes: it must fail cleanly, never panic
// or run away, and whatever it accepts must stream its data member.
func FuzzOpen(f *testing.F) {
	for _, comp := range []string{"", ".gz", ".xz", ".zst"} {
		b, err := debtest.Deb{Control: control, Files: helloFiles, ControlCompression: comp, DataCompression: comp}.Build()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("!<arch>\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := debfile.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		tr, c, err := d.Data()
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, err := tr.Next(); err != nil {
				return
			}
			if _, err := io.Copy(io.Discard, io.LimitReader(tr, 1<<20)); err != nil {
				return
			}
		}
	})
}

// FuzzParseControl checks that whatever ParseControl accepts, FormatControl
// writes back to the same fields.
func FuzzParseControl(f *testing.F) {
	f.Add([]byte(control))
	f.Add([]byte("Package: a\nConffiles:\n /etc/a 01\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fields, order, err := debfile.ParseControl(b)
		if err != nil {
			return
		}
		f2, o2, err := debfile.ParseControl(debfile.FormatControl(fields, order))
		if err != nil || !reflect.DeepEqual(fields, f2) || !reflect.DeepEqual(order, o2) {
			t.Fatalf("round trip of %q: %q %q %v", b, f2, o2, err)
		}
	})
}
