package rootfs

import (
	"reflect"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.1", -1},
		{"1.10", "1.9", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0", "1.0+b1", -1},
		{"1.0-1", "1.0-2", -1},
		{"1:0.1", "9.9", 1},
		{"2.36-9+deb12u14", "2.36-9+deb12u9", 1},
		{"12.2.0-14+deb12u1", "12.2.0-14", 1},
		{"1.0a", "1.0", 1},
		{"1.0~", "1.0~~", 1},
		{"0:1.0", "1.0", 0},
		{"1.001", "1.1", 0},
		{"1.0-1", "1.0", 1},
	}
	sign := func(c int) int {
		switch {
		case c < 0:
			return -1
		case c > 0:
			return 1
		}
		return 0
	}
	for _, tt := range tests {
		if got := sign(compareVersions(tt.a, tt.b)); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := sign(compareVersions(tt.b, tt.a)); got != -tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestParseRelations(t *testing.T) {
	tests := []struct {
		in   string
		want []relation
		err  bool
	}{
		{"", nil, false},
		{"foo", []relation{{name: "foo"}}, false},
		{"foo (<< 1.2-1), bar:any,baz (>= 2)", []relation{{"foo", "<<", "1.2-1"}, {"bar", "", ""}, {"baz", ">=", "2"}}, false},
		{"old (< 1)", []relation{{"old", "<=", "1"}}, false},
		{"foo (1.0)", nil, true},
		{"foo (<< 1", nil, true},
		{"a | b", nil, true},
	}
	for _, tt := range tests {
		got, err := parseRelations(tt.in)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseRelations(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestRelationSatisfiedBy(t *testing.T) {
	tests := []struct {
		rel           relation
		name, version string
		want          bool
	}{
		{relation{"a", "", ""}, "a", "1", true},
		{relation{"a", "", ""}, "b", "1", false},
		{relation{"a", "<<", "2"}, "a", "1.9", true},
		{relation{"a", "<<", "2"}, "a", "2", false},
		{relation{"a", "<=", "2"}, "a", "2", true},
		{relation{"a", "=", "2"}, "a", "2", true},
		{relation{"a", ">=", "2"}, "a", "1", false},
		{relation{"a", ">>", "2"}, "a", "2.1", true},
	}
	for _, tt := range tests {
		if got := tt.rel.satisfiedBy(tt.name, tt.version); got != tt.want {
			t.Errorf("%v.satisfiedBy(%s %s) = %v", tt.rel, tt.name, tt.version, got)
		}
	}
}
