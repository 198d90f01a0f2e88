package runconfig

import (
	"encoding/json"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptr[T any](v T) *T { return &v }

// TestLabelValue: the label is LinuxKit's JSON, field by field: unset
// pointers are left out, empty ones kept (they override), keys in struct
// order so the label (and so the image digest) is deterministic.
func TestLabelValue(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty", Config{}, `{}`},
		{"empty list overrides", Config{Capabilities: &[]string{}}, `{"capabilities":[]}`},
		{"false overrides", Config{Readonly: ptr(false)}, `{"readonly":false}`},
		{"struct order", Config{Pid: "host", Capabilities: &[]string{"CAP_SYS_ADMIN"}, Net: "host"},
			`{"capabilities":["CAP_SYS_ADMIN"],"net":"host","pid":"host"}`},
		{"dotted name", Config{BindsAdd: &[]string{"/a:/a"}}, `{"binds.add":["/a:/a"]}`},
		{"mounts", Config{Mounts: &[]specs.Mount{{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid"}}}},
			`{"mounts":[{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid"]}]}`},
		{"runtime", Config{Runtime: &Runtime{Mkdir: &[]string{"/var/x"}, BindNS: Namespaces{Net: ptr("/run/netns/x")}}},
			`{"runtime":{"mkdir":["/var/x"],"bindNS":{"net":"/run/netns/x"}}}`},
		{"interfaces", Config{Runtime: &Runtime{Interfaces: &[]Interface{{Name: "eth0", Add: "veth", Peer: "veth1", CreateInRoot: true}}}},
			`{"runtime":{"interfaces":[{"name":"eth0","add":"veth","peer":"veth1","createInRoot":true}],"bindNS":{}}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.cfg.LabelValue()
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("LabelValue = %s\nwant         %s", got, c.want)
			}
			var back Config
			if err := json.Unmarshal([]byte(got), &back); err != nil {
				t.Fatal(err)
			}
			again, err := back.LabelValue()
			if err != nil {
				t.Fatal(err)
			}
			if again != got {
				t.Errorf("round trip changed the label: %s", again)
			}
		})
	}
}

// TestJSONNamesMatchYAML: each field has the same name in build.yml and
// in the label, so a config copied between them means the same.
func TestJSONNamesMatchYAML(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeOf(Config{}), reflect.TypeOf(Runtime{}), reflect.TypeOf(Interface{}), reflect.TypeOf(Namespaces{})} {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if y, j := f.Tag.Get("yaml"), f.Tag.Get("json"); y != j {
				t.Errorf("%s.%s: yaml %q, json %q", typ.Name(), f.Name, y, j)
			}
		}
	}
	if Label != "org.mobyproject.config" {
		t.Errorf("Label = %q: LinuxKit reads org.mobyproject.config", Label)
	}
}
