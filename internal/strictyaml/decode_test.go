package strictyaml

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Name  string   `yaml:"name"`
	List  []string `yaml:"list"`
	Flag  bool     `yaml:"flag"`
	Count int      `yaml:"count"`
}

type untagged struct {
	ContainerID string `json:"containerID"`
}

type outer struct {
	Items []inner          `yaml:"items"`
	One   *inner           `yaml:"one"`
	Map   map[string]int   `yaml:"map"`
	Spec  *untagged        `yaml:"spec"`
	Any   any              `yaml:"any"`
	Lists map[string][]int `yaml:"lists"`
}

// Bomb is a ten-level merge-key bomb: level k merges level k-1 ten
// times, so the document expands to 10^10 nodes. key is the list it is
// written under.
func Bomb(key string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  - &a0 {name: x}\n", key)
	for k := 1; k <= 10; k++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", k-1), 10), ", ")
		fmt.Fprintf(&b, "  - &a%d {<<: [%s]}\n", k, refs)
	}
	return b.String()
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		opt        Options
		want       string // exact prefix of the message, or all of it
	}{
		{"wrong type", "items:\n  - list: x\n", Options{}, `f.yml:2: items[0].list: expected a list of strings, got "x"`},
		{"wrong scalar", "one:\n  count: many\n", Options{}, `f.yml:2: one.count: expected an integer, got "many"`},
		{"mapping for scalar", "one:\n  name: {a: b}\n", Options{}, `f.yml:2: one.name: expected a string, got a mapping`},
		{"unknown field", "one:\n  nmae: x\n", Options{}, `f.yml:2: one.nmae: unknown field (did you mean "name"?)`},
		{"unknown top-level field", "zzzzzz: 1\n", Options{}, `f.yml:1: zzzzzz: unknown field (expected one of: any, items, lists, map, one, spec)`},
		{"duplicate key", "one:\n  name: a\n  name: b\n", Options{}, `f.yml:3: one.name: set twice (first at line 2)`},
		{"duplicate map key", "map:\n  a: 1\n  a: 2\n", Options{}, `f.yml:3: map.a: set twice (first at line 2)`},
		{"map value type", "lists:\n  a: [1, x]\n", Options{}, `f.yml:2: lists.a[1]: expected an integer, got "x"`},
		{"strict bool", "one:\n  flag: yes\n", Options{StrictBools: true}, `f.yml:2: one.flag: expected a boolean (true or false), got "yes"`},
		{"json name without option", "spec:\n  containerID: x\n", Options{}, `f.yml:2: spec.containerID: unknown field`},
		{"unsupported", "one:\n  old: x\n", Options{Unsupported: map[reflect.Type]map[string]string{reflect.TypeOf(inner{}): {"old": "is gone"}}}, `f.yml:2: one.old: is gone`},
		{"merge of a scalar", "one:\n  <<: 1\n", Options{}, `f.yml:1: one: a << merge must name a mapping`},
		{"empty", "# nothing\n", Options{Empty: "file is empty"}, `f.yml: file is empty`},
		{"syntax", "one: [x\n", Options{}, `f.yml:1: did not find expected ',' or ']'`},
		{"alias bomb", Bomb("items"), Options{}, `f.yml:`},
		{"self-containing alias", "one: &a\n  name: *a\n", Options{}, `f.yml:`},
		{"oversize", "one: {name: x}\n#" + strings.Repeat("x", MaxBytes), Options{}, fmt.Sprintf("f.yml: is %d bytes; a YAML file may be at most 4 MiB", MaxBytes+16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v outer
			start := time.Now()
			err := Decode("f.yml", []byte(tt.yaml), &v, tt.opt)
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("took %v: the decoder must fail fast", d)
			}
			var ye *Error
			if !errors.As(err, &ye) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q\nwant prefix  %q", err, tt.want)
			}
		})
	}
}

func TestDecodeBombMessage(t *testing.T) {
	var v outer
	err := Decode("f.yml", []byte(Bomb("items")), &v, Options{})
	if err == nil || !strings.Contains(err.Error(), "add more than 100000 nodes") {
		t.Fatalf("error %v, want the expansion budget named", err)
	}
	err = Decode("f.yml", []byte("one: &a\n  name: *a\n"), &v, Options{})
	if err == nil || !strings.Contains(err.Error(), "contains it") {
		t.Fatalf("error %v, want a self-containing alias refused", err)
	}
}

func TestDecodeAccepts(t *testing.T) {
	y := `base: &base {name: b, list: [x], count: 2}
items:
  - <<: *base
    name: own
  - <<: [*base, {flag: true}]
spec:
  CONTAINERID: c
map: {a: 1}
any: [1, {x: y}]
`
	var v struct {
		Base  inner `yaml:"base"`
		outer `yaml:",inline"`
	}
	if err := Decode("f.yml", []byte(y), &v, Options{JSONNames: true, StrictBools: true}); err != nil {
		t.Fatal(err)
	}
	if v.Items[0].Name != "own" || v.Items[0].Count != 2 || !v.Items[1].Flag || v.Items[1].Name != "b" {
		t.Errorf("merges decoded as %+v", v.Items)
	}
	if v.Spec.ContainerID != "c" {
		t.Errorf("JSON name not decoded: %+v", v.Spec)
	}
	// A long file without aliases (a large mirror.lock) is bounded by
	// MaxBytes, not by the alias budget.
	long := "items:\n" + strings.Repeat("  - {name: x, count: 1}\n", 30_000)
	var big outer
	if err := Decode("f.yml", []byte(long), &big, Options{}); err != nil || len(big.Items) != 30_000 {
		t.Errorf("long literal document: %d items, %v", len(big.Items), err)
	}
	var empty outer
	if err := Decode("f.yml", nil, &empty, Options{}); err != nil {
		t.Errorf("empty document without Empty: %v", err)
	}
}

type validated struct {
	Items []inner `yaml:"items"`
}

func (v *validated) Validate(loc *Locator) error {
	for i, it := range v.Items {
		if it.Name == "" {
			return loc.Errorf(fmt.Sprintf("items[%d].name", i), "is required")
		}
	}
	return nil
}

func TestValidatorLines(t *testing.T) {
	var v validated
	err := Decode("f.yml", []byte("items:\n  - name: a\n  - count: 1\n"), &v, Options{})
	if err == nil || err.Error() != "f.yml:3: items[1].name: is required" {
		t.Fatalf("error %v, want the missing field on its parent's line", err)
	}
}

func TestReadFile(t *testing.T) {
	if _, err := ReadFile("/dev/zero"); err == nil || !strings.HasPrefix(err.Error(), "/dev/zero: is larger than 4 MiB") {
		t.Errorf("endless file: %v", err)
	}
	if _, err := ReadFile(t.TempDir() + "/missing.yml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
