package strictyaml

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// walker checks a YAML tree against a Go type before yaml.v3 decodes it,
// so that every error names its field path and line (yaml.v3's own
// errors name neither), and records the line of every path for the
// Locator.
type walker struct {
	loc *Locator
	opt Options
}

var (
	unmarshalerType     = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// errorf reports a problem with node n at field path p, on the line of
// the field's key when there is one.
func (w *walker) errorf(n *yaml.Node, p, format string, args ...any) error {
	line := n.Line
	if l, ok := w.loc.lines[p]; ok && p != "" {
		line = l
	}
	return &Error{File: w.loc.file, Line: line, Field: p, Msg: fmt.Sprintf(format, args...)}
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, p string) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if p != "" {
		if _, ok := w.loc.lines[p]; !ok {
			w.loc.lines[p] = n.Line
		}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(unmarshalerType) || pt.Implements(textUnmarshalerType) {
		return nil // the type decodes itself; yaml.v3 reports its errors
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return w.errorf(n, p, "expected a mapping, got %s", describe(n))
		}
		return w.walkStruct(n, t, p, map[string]int{})
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return w.errorf(n, p, "expected %s, got %s", kindName(t), describe(n))
		}
		for i, item := range n.Content {
			if err := w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", p, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		return w.walkMap(n, t, p)
	default:
		if n.Kind != yaml.ScalarNode {
			return w.errorf(n, p, "expected %s, got %s", kindName(t), describe(n))
		}
		v := reflect.New(t)
		err := n.Decode(v.Interface())
		if err != nil || (w.opt.StrictBools && t.Kind() == reflect.Bool && n.ShortTag() != "!!bool") {
			return w.errorf(n, p, "expected %s, got %q", kindName(t), n.Value)
		}
		return nil
	}
}

func (w *walker) walkMap(n *yaml.Node, t reflect.Type, p string) error {
	if n.Kind != yaml.MappingNode {
		return w.errorf(n, p, "expected a mapping, got %s", describe(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return w.errorf(k, p, "keys must be strings, got %s", describe(k))
		}
		fp := join(p, k.Value)
		if k.Tag == "!!merge" {
			// yaml.v3 merges maps too; check the merged values' types.
			err := w.eachMerged(n.Content[i+1], p, func(m *yaml.Node) error { return w.walkMap(m, t, p) })
			if err != nil {
				return err
			}
			continue
		}
		if first, dup := seen[k.Value]; dup {
			return &Error{File: w.loc.file, Line: k.Line, Field: fp, Msg: fmt.Sprintf("set twice (first at line %d)", first)}
		}
		seen[k.Value] = k.Line
		if err := w.walk(n.Content[i+1], t.Elem(), fp); err != nil {
			return err
		}
	}
	return nil
}

// eachMerged calls f for each mapping a << merge value names (one
// mapping, or a list of them).
func (w *walker) eachMerged(v *yaml.Node, p string, f func(*yaml.Node) error) error {
	for v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	merged := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		merged = v.Content
	}
	for _, m := range merged {
		for m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		if m.Kind != yaml.MappingNode {
			return w.errorf(m, p, "a << merge must name a mapping")
		}
		if err := f(m); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) walkStruct(n *yaml.Node, t reflect.Type, p string, seen map[string]int) error {
	fields, aliases := structFields(t, w.opt.JSONNames)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			// Keys written here override merged ones: not duplicates.
			err := w.eachMerged(v, p, func(m *yaml.Node) error { return w.walkStruct(m, t, p, map[string]int{}) })
			if err != nil {
				return err
			}
			continue
		}
		ft, ok := fields[k.Value]
		if !ok {
			if canon, found := aliases[strings.ToLower(k.Value)]; found {
				k.Value = canon // yaml.v3 decodes the lower-case name
				ft, ok = fields[canon], true
			}
		}
		fp := join(p, k.Value)
		if !ok {
			if why, known := w.opt.Unsupported[t][k.Value]; known {
				return w.errorf(k, fp, "%s", why)
			}
			return w.errorf(k, fp, "unknown field%s", w.suggest(k.Value, fields))
		}
		if first, dup := seen[k.Value]; dup {
			return &Error{File: w.loc.file, Line: k.Line, Field: fp, Msg: fmt.Sprintf("set twice (first at line %d)", first)}
		}
		seen[k.Value] = k.Line
		w.loc.lines[fp] = k.Line
		if err := w.walk(v, ft, fp); err != nil {
			return err
		}
	}
	return nil
}

// structFields lists the keys yaml.v3 decodes into struct t (following
// `,inline`) and, with jsonNames, the lower-cased JSON names of fields
// without a yaml tag mapped to the yaml.v3 key.
func structFields(t reflect.Type, jsonNames bool) (map[string]reflect.Type, map[string]string) {
	fields := map[string]reflect.Type{}
	aliases := map[string]string{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if !sf.IsExported() && !sf.Anonymous {
				continue // yaml.v3 also inlines unexported embedded structs
			}
			tag, hasTag := sf.Tag.Lookup("yaml")
			if tag == "-" {
				continue
			}
			key, flags, _ := strings.Cut(tag, ",")
			if strings.Contains(","+flags+",", ",inline,") && sf.Type.Kind() == reflect.Struct {
				add(sf.Type)
				continue
			}
			if key == "" {
				key = strings.ToLower(sf.Name)
			}
			fields[key] = sf.Type
			if jsonNames && !hasTag {
				if j, _, _ := strings.Cut(sf.Tag.Get("json"), ","); j != "" && j != "-" {
					aliases[strings.ToLower(j)] = key
				}
			}
		}
	}
	add(t)
	return fields, aliases
}

// suggest names the closest valid key, or lists them when there are few.
func (w *walker) suggest(key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, k := range names {
		if d := distance(strings.ToLower(key), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	switch {
	case best != "":
		return fmt.Sprintf(" (did you mean %q?)", best)
	case len(names) <= 12 || w.opt.FieldsDoc == "":
		return " (expected one of: " + strings.Join(names, ", ") + ")"
	}
	return " (see " + w.opt.FieldsDoc + " for the valid fields)"
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func join(p, key string) string {
	if p == "" {
		return key
	}
	return p + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// kindName says what a value of type t is written as.
func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		switch t.Elem().Kind() {
		case reflect.String:
			return "a list of strings"
		case reflect.Int, reflect.Int64:
			return "a list of integers"
		}
		return "a list"
	}
	return t.String()
}
