package rootfs

import (
	"reflect"
	"testing"
)

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
