package strictyaml

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem in a YAML file, located by file, line and field path
// (such as `services[1].capabilities`). It is the only error type the
// decoder returns for a problem in the file's content.
type Error struct {
	File  string
	Line  int // 0 when the problem has no single line (a missing field)
	Field string
	Msg   string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

var yamlLineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

// fromYAML turns a yaml.v3 error ("yaml: line N: msg", or a TypeError
// listing several) into an *Error on the first problem's line.
func fromYAML(file string, err error) error {
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msgs = te.Errors
	}
	e := &Error{File: file, Msg: msgs[0]}
	if m := yamlLineRE.FindStringSubmatch(msgs[0]); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	} else if te == nil {
		e.Msg = "invalid YAML: " + e.Msg
	}
	if len(msgs) > 1 {
		e.Msg += fmt.Sprintf(" (and %d more problems)", len(msgs)-1)
	}
	return e
}
