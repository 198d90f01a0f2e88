package strictyaml

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
)

// MaxBytes is the largest YAML document read: lkpkg's files are a few
// kilobytes; anything near this size is a mistake or an attack.
const MaxBytes = 4 << 20

// MaxAliasNodes bounds the nodes that following aliases and << merges
// adds to a document. Sane files with merges add hundreds; a ten-level
// merge bomb would add 10^10. Nodes written out literally are bounded by
// MaxBytes instead: a long mirror.lock is not an attack.
const MaxAliasNodes = 100_000

// Options are the per-file differences the one decoder allows.
type Options struct {
	// Empty is the message for an empty document (no keys at all).
	// "" decodes an empty document into the zero value.
	Empty string
	// StrictBools accepts only true and false for booleans, as
	// LinuxKit's image schema does; otherwise yaml.v3's YAML 1.1
	// spellings (yes, no, on, off) are accepted too.
	StrictBools bool
	// JSONNames lets structs without yaml tags (the OCI runtime-spec
	// structs) take their JSON names in any case (`containerID`,
	// `hugepageLimits`), as LinuxKit documents them.
	JSONNames bool
	// Unsupported lists keys, per struct type, that are refused with a
	// message of their own instead of "unknown field".
	Unsupported map[reflect.Type]map[string]string
	// FieldsDoc is where the valid fields are documented, named when an
	// unknown field has no close match.
	FieldsDoc string
}

// Validator is a decoded config that checks its own values; loc names
// the line of a field path in errors.
type Validator interface {
	Validate(loc *Locator) error
}

// Decode decodes YAML data into v (a pointer), strictly: see the package
// documentation. file is used in error messages only. If v implements
// Validator, Validate is called after decoding.
func Decode(file string, data []byte, v any, opt Options) error {
	loc, err := decode(file, data, v, opt)
	if err != nil {
		return err
	}
	if val, ok := v.(Validator); ok {
		return val.Validate(loc)
	}
	return nil
}

// DecodeLocate is Decode without the Validator call, for callers that
// validate in their own way: it returns the Locator of the document.
func DecodeLocate(file string, data []byte, v any, opt Options) (*Locator, error) {
	return decode(file, data, v, opt)
}

func decode(file string, data []byte, v any, opt Options) (*Locator, error) {
	if len(data) > MaxBytes {
		return nil, &Error{File: file, Msg: fmt.Sprintf("is %d bytes; a YAML file may be at most %d MiB", len(data), MaxBytes>>20)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fromYAML(file, err)
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	loc := &Locator{file: file, lines: map[string]int{}}
	if doc.Kind == 0 || doc.Kind == yaml.DocumentNode || (doc.Kind == yaml.ScalarNode && doc.Tag == "!!null") {
		if opt.Empty != "" {
			return nil, &Error{File: file, Msg: opt.Empty}
		}
		return loc, nil
	}
	if err := checkExpansion(file, doc); err != nil {
		return nil, err
	}
	w := &walker{loc: loc, opt: opt}
	if err := w.walk(doc, reflect.TypeOf(v), ""); err != nil {
		return nil, err
	}
	if err := doc.Decode(v); err != nil {
		// The walk checked every key and scalar: this is a backstop.
		return nil, fromYAML(file, err)
	}
	return loc, nil
}

// checkExpansion counts the nodes of doc with every alias followed,
// memoised per node so the count itself is linear in the file's size,
// and refuses documents whose aliases add more than MaxAliasNodes and
// aliases that contain themselves.
func checkExpansion(file string, doc *yaml.Node) error {
	const inProgress = -1
	size := map[*yaml.Node]int{} // every literal node, once
	tooMany := func(n *yaml.Node) error {
		return &Error{File: file, Line: n.Line, Msg: fmt.Sprintf("aliases and << merges add more than %d nodes (an alias bomb?)", MaxAliasNodes)}
	}
	var count func(n *yaml.Node) (int, error)
	count = func(n *yaml.Node) (int, error) {
		if s, ok := size[n]; ok {
			if s == inProgress {
				return 0, &Error{File: file, Line: n.Line, Msg: "an alias refers to a node that contains it"}
			}
			return s, nil
		}
		size[n] = inProgress
		total := 1
		children := n.Content
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			children = []*yaml.Node{n.Alias}
		}
		for _, c := range children {
			s, err := count(c)
			if err != nil {
				return 0, err
			}
			// Literal nodes are fewer than the document's bytes, so
			// past this the aliases alone are over budget.
			if total += s; total > MaxBytes+MaxAliasNodes {
				return 0, tooMany(n)
			}
		}
		size[n] = total
		return total, nil
	}
	total, err := count(doc)
	if err == nil && total-len(size) > MaxAliasNodes {
		return tooMany(doc)
	}
	return err
}
