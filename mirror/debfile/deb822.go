package debfile

import (
	"fmt"
	"strings"
)

// Scanner walks deb822 text (a control file, a Packages index, a Release
// file) one field at a time: the one Debian control-file tokenizer of
// lkpkg. Names and values are substrings of the input, continuation lines
// included, so scanning a 50 MiB Packages index allocates nothing per
// field.
type Scanner struct {
	text string
	pos  int
	line int // number of the line at pos (1-based)

	// Comments makes lines starting with '#' comments (deb822 files
	// written by hand); archive indexes have none.
	Comments bool

	// Set by Next for the field just read.
	Name      string
	Value     string // trimmed; continuation lines included raw
	Line      int    // line the field starts on
	NewStanza bool   // first field after a blank line (or of the text)
	raw       string // the value as written, up to its last newline
}

// NewScanner returns a Scanner of text.
func NewScanner(text string) *Scanner {
	return &Scanner{text: text, line: 1}
}

// Next reads the next field. It returns false at the end of the text.
func (s *Scanner) Next() (bool, error) {
	s.NewStanza = s.pos == 0
	s.skipBlankAndComments()
	if s.pos >= len(s.text) {
		return false, nil
	}
	l, n := s.peekLine()
	s.Line = s.line
	if l[0] == ' ' || l[0] == '\t' {
		return false, fmt.Errorf("line %d: continuation line before any field", s.line)
	}
	colon := strings.IndexByte(l, ':')
	if colon <= 0 {
		return false, fmt.Errorf("line %d: not a field: malformed field %q, want \"Name: value\"", s.line, Clip(l))
	}
	s.Name = l[:colon]
	for i := 0; i < len(s.Name); i++ {
		if c := s.Name[i]; c <= ' ' || c >= 0x7f {
			return false, fmt.Errorf("line %d: not a field: malformed field name %q", s.line, Clip(s.Name))
		}
	}
	valStart := s.pos + colon + 1
	s.pos += n
	s.line++
	end := s.pos
	// Continuation lines start with a space or tab and are not blank.
	for s.pos < len(s.text) && (s.text[s.pos] == ' ' || s.text[s.pos] == '\t') {
		l, n := s.peekLine()
		if blank(l) {
			break
		}
		s.pos += n
		s.line++
		end = s.pos
	}
	s.raw = s.text[valStart:end]
	s.Value = strings.TrimSpace(s.raw)
	return true, nil
}

// skipBlankAndComments skips blank (or whitespace-only) lines, which
// separate stanzas, and comment lines if Comments is set.
func (s *Scanner) skipBlankAndComments() {
	for s.pos < len(s.text) {
		l, n := s.peekLine()
		switch {
		case blank(l):
			s.NewStanza = true
		case s.Comments && l[0] == '#':
		default:
			return
		}
		s.pos += n
		s.line++
	}
}

// Verbatim is the value with its continuation lines kept as written
// (leading space included, trailing space removed), joined by "\n"; a
// value whose first line is empty (Conffiles) starts with "\n".
func (s *Scanner) Verbatim() string {
	lines := strings.Split(strings.TrimSuffix(s.raw, "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " \t\r")
	}
	lines[0] = strings.TrimLeft(lines[0], " \t")
	return strings.Join(lines, "\n")
}

// peekLine returns the line at pos without its newline (nor a trailing
// '\r') and the number of bytes it spans, newline included.
func (s *Scanner) peekLine() (string, int) {
	rest := s.text[s.pos:]
	i := strings.IndexByte(rest, '\n')
	if i < 0 {
		return strings.TrimSuffix(rest, "\r"), len(rest)
	}
	return strings.TrimSuffix(rest[:i], "\r"), i + 1
}

func blank(s string) bool { return strings.Trim(s, " \t\r\n") == "" }

// Clip shortens s for error messages.
func Clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
