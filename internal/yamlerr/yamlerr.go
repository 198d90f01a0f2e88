// Package yamlerr is the one error shape of lkpkg's YAML files (build.yml,
// image YAML): where (file:line), which field, and what was expected.
package yamlerr

import (
	"fmt"
	"strconv"
)

// Error is a problem in a YAML file, located by file, line and field path
// (such as `services[1].capabilities`).
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: field %q: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}
