package deb

import (
	"fmt"
	"strings"
)

// fieldScanner walks deb822 text (Packages, Release) one field at a time.
// Names and values are substrings of the input, continuation lines
// included, so scanning a 50 MiB Packages index allocates nothing per field.
type fieldScanner struct {
	text string
	pos  int
	line int // number of the line at pos (1-based)

	// Set by next for the field just read.
	name, value string
	fieldLine   int  // line the field starts on
	newStanza   bool // first field after a blank line (or of the text)
}

func newFieldScanner(text string) *fieldScanner {
	return &fieldScanner{text: text, line: 1}
}

// next reads the next field. It returns false at the end of the text.
func (s *fieldScanner) next() (bool, error) {
	s.newStanza = s.pos == 0
	// Skip blank (or whitespace-only) lines: they separate stanzas.
	for s.pos < len(s.text) {
		l, n := s.peekLine()
		if !isBlank(l) {
			break
		}
		s.pos += n
		s.line++
		s.newStanza = true
	}
	if s.pos >= len(s.text) {
		return false, nil
	}
	l, n := s.peekLine()
	s.fieldLine = s.line
	if l[0] == ' ' || l[0] == '\t' {
		return false, fmt.Errorf("line %d: continuation line without a field", s.line)
	}
	colon := strings.IndexByte(l, ':')
	if colon <= 0 {
		return false, fmt.Errorf("line %d: malformed field %q: want \"Name: value\"", s.line, clip(l))
	}
	s.name = l[:colon]
	for i := 0; i < len(s.name); i++ {
		if c := s.name[i]; c <= ' ' || c >= 0x7f {
			return false, fmt.Errorf("line %d: malformed field name %q", s.line, clip(s.name))
		}
	}
	valStart := s.pos + colon + 1
	s.pos += n
	s.line++
	end := s.pos
	// Continuation lines start with a space or tab and are not blank.
	for s.pos < len(s.text) && (s.text[s.pos] == ' ' || s.text[s.pos] == '\t') {
		l, n := s.peekLine()
		if isBlank(l) {
			break
		}
		s.pos += n
		s.line++
		end = s.pos
	}
	s.value = strings.TrimSpace(s.text[valStart:end])
	return true, nil
}

// peekLine returns the line at pos without its newline (nor a trailing
// '\r') and the number of bytes it spans, newline included.
func (s *fieldScanner) peekLine() (string, int) {
	rest := s.text[s.pos:]
	i := strings.IndexByte(rest, '\n')
	if i < 0 {
		return strings.TrimSuffix(rest, "\r"), len(rest)
	}
	return strings.TrimSuffix(rest[:i], "\r"), i + 1
}

// clip shortens s for error messages.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
