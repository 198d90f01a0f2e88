package apk

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ParseIndex parses APKINDEX text: records of "X:value" lines separated by
// blank lines. Unknown field letters are ignored so newer indexes still
// parse; lines without an "X:" prefix, records lacking P or V and bad
// integers are errors naming the line.
func ParseIndex(r io.Reader) ([]Package, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("apkindex: %w", err)
	}
	// One string for the whole index: fields are substrings of it, which
	// avoids an allocation per field (the index has ~1M lines).
	text := string(data)
	var (
		pkgs  = make([]Package, 0, strings.Count(text, "\nP:")+1)
		cur   Package
		start int // line of the current record's first field, 0 if none
	)
	flush := func() error {
		if start == 0 {
			return nil
		}
		if cur.Name == "" {
			return fmt.Errorf("apkindex: record at line %d: missing P: (name)", start)
		}
		if cur.Version == "" {
			return fmt.Errorf("apkindex: record at line %d (%s): missing V: (version)", start, cur.Name)
		}
		pkgs = append(pkgs, cur)
		cur, start = Package{}, 0
		return nil
	}
	for line := 1; len(text) > 0; line++ {
		var l string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			l, text = text[:i], text[i+1:]
		} else {
			l, text = text, ""
		}
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if len(l) < 2 || l[1] != ':' || !isFieldLetter(l[0]) {
			return nil, fmt.Errorf("apkindex: line %d: malformed line %q: want \"X:value\"", line, clip(l))
		}
		if start == 0 {
			start = line
		}
		if err := setField(&cur, l[0], l[2:]); err != nil {
			return nil, fmt.Errorf("apkindex: line %d: %w", line, err)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return pkgs, nil
}

func isFieldLetter(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// setField stores one "X:value" field into p.
func setField(p *Package, key byte, v string) error {
	if dst, valid, what := textField(p, key); dst != nil {
		if valid != nil && !valid(v) {
			return fmt.Errorf("%c: %q is not a valid %s", key, clip(v), what)
		}
		*dst = v
		return nil
	}
	var err error
	switch key {
	case 'S':
		p.Size, err = parseInt(key, v)
	case 'I':
		p.InstalledSize, err = parseInt(key, v)
	case 't':
		p.BuildTime, err = parseInt(key, v)
	case 'k':
		var n int64
		n, err = parseInt(key, v)
		p.ProviderPriority, p.HasPriority = int(n), err == nil
	case 'D':
		p.Depends = strings.Fields(v)
	case 'p':
		p.Provides = strings.Fields(v)
	case 'i':
		p.InstallIf = strings.Fields(v)
	}
	return err
}

// textField is where a text field of p goes and, for names and versions,
// the check its value must pass first.
func textField(p *Package, key byte) (dst *string, valid func(string) bool, what string) {
	switch key {
	case 'P':
		return &p.Name, ValidName, "package name"
	case 'V':
		return &p.Version, ValidVersion, "apk version"
	case 'A':
		return &p.Arch, ValidName, "arch"
	case 'C':
		return &p.Checksum, nil, ""
	case 'T':
		return &p.Description, nil, ""
	case 'U':
		return &p.URL, nil, ""
	case 'L':
		return &p.License, nil, ""
	case 'o':
		return &p.Origin, nil, ""
	case 'm':
		return &p.Maintainer, nil, ""
	case 'c':
		return &p.Commit, nil, ""
	}
	return nil, nil, ""
}

// parseInt reads a non-negative decimal; k: must also fit an int32 as in apk.
func parseInt(key byte, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || (key == 'k' && n > math.MaxInt32) {
		return 0, fmt.Errorf("field %c: bad integer %q", key, clip(v))
	}
	return n, nil
}

// clip shortens text quoted in error messages.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// ValidName reports whether s can be a package (or arch) name. Names
// become file names and URL paths ("NAME-VERSION.apk"), so anything that
// could climb out of a directory is refused.
func ValidName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '+' || c == '-' || c == '.':
			if i == 0 && c != '_' {
				return false
			}
		default:
			return false
		}
	}
	return true
}
