package debfile

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseControl(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		fields map[string]string
		order  []string
		err    string
	}{{
		name:   "simple",
		in:     "Package: dash\nVersion: 0.5.12-2\nArchitecture: amd64\n",
		fields: map[string]string{"Package": "dash", "Version": "0.5.12-2", "Architecture": "amd64"},
		order:  []string{"Package", "Version", "Architecture"},
	}, {
		name: "continuation lines kept verbatim",
		in:   "Package: a\nDescription: short\n long line\n .\n\tmore  \n",
		fields: map[string]string{"Package": "a",
			"Description": "short\n long line\n .\n\tmore"},
		order: []string{"Package", "Description"},
	}, {
		name:   "empty first line",
		in:     "Package: a\nConffiles:\n /etc/a 0123\n /etc/b 4567\n",
		fields: map[string]string{"Package": "a", "Conffiles": "\n /etc/a 0123\n /etc/b 4567"},
		order:  []string{"Package", "Conffiles"},
	}, {
		name:   "surrounding blank lines, CRLF and comments",
		in:     "\n\n# comment\r\nPackage:  a \r\nX-Odd:value\r\n\n\n",
		fields: map[string]string{"Package": "a", "X-Odd": "value"},
		order:  []string{"Package", "X-Odd"},
	}, {
		name:   "colon in value",
		in:     "Package: a\nDepends: libc6 (>= 2:1.0), b:any\n",
		fields: map[string]string{"Package": "a", "Depends": "libc6 (>= 2:1.0), b:any"},
		order:  []string{"Package", "Depends"},
	},
		{name: "two stanzas", in: "Package: a\n\nPackage: b\n", err: "more than one stanza"},
		{name: "duplicate field", in: "Package: a\npackage: b\n", err: "duplicate field"},
		{name: "leading continuation", in: " oops\nPackage: a\n", err: "continuation line before any field"},
		{name: "no colon", in: "Package a\n", err: "not a field"},
		{name: "space in name", in: "Pack age: a\n", err: "not a field"},
		{name: "empty", in: "\n\n", err: "empty stanza"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, order, err := ParseControl([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fields, tt.fields) || !reflect.DeepEqual(order, tt.order) {
				t.Fatalf("got %q %q, want %q %q", fields, order, tt.fields, tt.order)
			}
			// FormatControl is ParseControl's inverse.
			f2, o2, err := ParseControl(FormatControl(fields, order))
			if err != nil || !reflect.DeepEqual(f2, fields) || !reflect.DeepEqual(o2, order) {
				t.Fatalf("round trip: %q %q %v", f2, o2, err)
			}
		})
	}
}

func TestFormatControl(t *testing.T) {
	got := string(FormatControl(
		map[string]string{"Package": "a", "Conffiles": "\n /etc/a 01", "Description": "s\n l"},
		[]string{"Package", "Conffiles", "Description"}))
	want := "Package: a\nConffiles:\n /etc/a 01\nDescription: s\n l\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
