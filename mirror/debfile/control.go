package debfile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// ParseControl parses one deb822 stanza, such as a DEBIAN/control file.
//
// It returns the fields by name, as spelled in b, and the names in the
// order they appear, so that FormatControl can write the stanza back
// unchanged. A multi-line value keeps its continuation lines verbatim
// (leading space included, trailing space removed), joined by "\n": the
// Description of a package is "synopsis\n long line\n .\n more". A value
// whose first line is empty (Conffiles) starts with "\n".
//
// Blank lines before and after the stanza are ignored; a blank line
// between fields would start a second stanza and is an error, as are
// duplicate fields (compared case-insensitively, as dpkg does) and lines
// that are neither "Name: value" nor continuations. Lines starting with
// "#" are comments (deb822).
func ParseControl(b []byte) (map[string]string, []string, error) {
	fields := map[string]string{}
	var order []string
	seen := map[string]bool{}
	sc := NewScanner(string(b))
	sc.Comments = true
	for {
		ok, err := sc.Next()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			break
		}
		switch lower := strings.ToLower(sc.Name); {
		case sc.NewStanza && len(order) > 0:
			return nil, nil, fmt.Errorf("line %d: more than one stanza", sc.Line)
		case sc.Name[0] == '-':
			return nil, nil, fmt.Errorf("line %d: not a field: %q", sc.Line, sc.Name)
		case seen[lower]:
			return nil, nil, fmt.Errorf("line %d: duplicate field %s", sc.Line, sc.Name)
		default:
			seen[lower] = true
		}
		fields[sc.Name] = sc.Verbatim()
		order = append(order, sc.Name)
	}
	if len(order) == 0 {
		return nil, nil, errors.New("empty stanza")
	}
	return fields, order, nil
}

// FormatControl writes the fields named in order as one deb822 stanza,
// the inverse of ParseControl. It adds no blank line after the stanza.
func FormatControl(fields map[string]string, order []string) []byte {
	var b bytes.Buffer
	for _, name := range order {
		v := fields[name]
		b.WriteString(name)
		b.WriteByte(':')
		if v != "" && v[0] != '\n' {
			b.WriteByte(' ')
		}
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
