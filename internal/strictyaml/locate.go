package strictyaml

import (
	"fmt"
	"strings"
)

// Locator maps the field paths of a decoded document (`arches[2]`,
// `services[1].capabilities`) to the lines they were written on.
type Locator struct {
	file  string
	lines map[string]int
}

// NewLocator is a Locator for file that knows no lines: for values built
// in code rather than decoded.
func NewLocator(file string) *Locator {
	return &Locator{file: file, lines: map[string]int{}}
}

// File is the file name errors are reported against.
func (l *Locator) File() string { return l.file }

// Line is the line of field path p, or of its nearest parent that was
// written (0 if none was: a required field that is missing).
func (l *Locator) Line(p string) int {
	for p != "" {
		if n, ok := l.lines[p]; ok {
			return n
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// Errorf is an *Error about field path p on its line.
func (l *Locator) Errorf(p, format string, args ...any) error {
	return &Error{File: l.file, Line: l.Line(p), Field: p, Msg: fmt.Sprintf(format, args...)}
}
