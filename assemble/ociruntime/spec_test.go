package ociruntime

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gopkg.in/yaml.v3"

	"github.com/lkpkg/lkpkg/runconfig"
)

func testStrs(s ...string) *[]string { return &s }
func testPtr[T any](v T) *T          { return &v }

// testLabel decodes a label value as Spec's callers will: from the
// JSON in the org.mobyproject.config label.
func testLabel(t *testing.T, js string) *runconfig.Config {
	t.Helper()
	return testDecode(t, "label", json.Unmarshal, js)
}

// testYAML decodes an image YAML entry's options.
func testYAML(t *testing.T, y string) *runconfig.Config {
	t.Helper()
	return testDecode(t, "yaml", yaml.Unmarshal, y)
}

func testDecode(t *testing.T, what string, unmarshal func([]byte, any) error, text string) *runconfig.Config {
	t.Helper()
	var c runconfig.Config
	if err := unmarshal([]byte(text), &c); err != nil {
		t.Fatalf("%s %s: %v", what, text, err)
	}
	return &c
}

var testImage = v1.Config{
	Entrypoint: []string{"/bin/entry"},
	Cmd:        []string{"arg"},
	Env:        []string{"PATH=/usr/bin:/bin", "FROM=image"},
	WorkingDir: "/img",
	User:       "nobody",
}

func testSpec(t *testing.T, img v1.Config, label, y *runconfig.Config) (*specs.Spec, *runconfig.Runtime) {
	t.Helper()
	s, rt, err := Spec("service test", img, label, y, nil)
	if err != nil {
		t.Fatalf("Spec: %v", err)
	}
	return s, rt
}

func testMount(s *specs.Spec, dst string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dst {
			return &s.Mounts[i]
		}
	}
	return nil
}

func TestOCIPrecedence(t *testing.T) {
	label := &runconfig.Config{
		Command:      testStrs("/label/cmd", "-x"),
		Env:          testStrs("FROM=label"),
		Cwd:          "/label",
		Capabilities: testStrs("CAP_NET_ADMIN"),
	}
	yml := &runconfig.Config{
		Command:      testStrs("/yaml/cmd"),
		Env:          testStrs("FROM=yaml"),
		Cwd:          "/yaml",
		Capabilities: testStrs("CAP_SYS_ADMIN", "CAP_CHOWN"),
	}
	tests := []struct {
		name        string
		img         v1.Config
		label, yaml *runconfig.Config
		args, env   []string
		cwd         string
		caps        []string
	}{
		{"image only", testImage, nil, nil,
			[]string{"/bin/entry", "arg"}, testImage.Env, "/img", nil},
		{"image cmd without entrypoint", v1.Config{Cmd: []string{"/bin/sh", "-c", "x"}}, nil, nil,
			[]string{"/bin/sh", "-c", "x"}, nil, "/", nil},
		{"label over image", testImage, label, nil,
			[]string{"/label/cmd", "-x"}, []string{"FROM=label"}, "/label", []string{"CAP_NET_ADMIN"}},
		{"yaml over label", testImage, label, yml,
			[]string{"/yaml/cmd"}, []string{"FROM=yaml"}, "/yaml", []string{"CAP_SYS_ADMIN", "CAP_CHOWN"}},
		{"yaml over image, no label", testImage, nil, yml,
			[]string{"/yaml/cmd"}, []string{"FROM=yaml"}, "/yaml", []string{"CAP_SYS_ADMIN", "CAP_CHOWN"}},
		{"empty yaml list replaces label list", testImage, label, &runconfig.Config{Env: testStrs(), Capabilities: testStrs()},
			[]string{"/label/cmd", "-x"}, []string{}, "/label", nil},
		{"unset fields fall through per field", testImage, &runconfig.Config{Cwd: "/label"}, &runconfig.Config{Env: testStrs("A=1")},
			[]string{"/bin/entry", "arg"}, []string{"A=1"}, "/label", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := testSpec(t, tc.img, tc.label, tc.yaml)
			p := s.Process
			if !slices.Equal(p.Args, tc.args) {
				t.Errorf("args = %q, want %q", p.Args, tc.args)
			}
			if !slices.Equal(p.Env, tc.env) {
				t.Errorf("env = %q, want %q", p.Env, tc.env)
			}
			if p.Cwd != tc.cwd {
				t.Errorf("cwd = %q, want %q", p.Cwd, tc.cwd)
			}
			if !slices.Equal(p.Capabilities.Effective, tc.caps) {
				t.Errorf("effective = %q, want %q", p.Capabilities.Effective, tc.caps)
			}
			// LinuxKit ignores the image's User.
			if p.User.UID != 0 || p.User.GID != 0 {
				t.Errorf("user = %+v, want 0:0", p.User)
			}
		})
	}
}

func TestOCISpecDoesNotAliasInputs(t *testing.T) {
	img := v1.Config{Entrypoint: make([]string, 1, 10), Cmd: []string{"b"}}
	img.Entrypoint[0] = "a"
	label := &runconfig.Config{Env: testStrs("X=1")}
	s, _ := testSpec(t, img, label, nil)
	s.Process.Env[0] = "changed"
	s.Process.Args[0] = "changed"
	if (*label.Env)[0] != "X=1" || img.Entrypoint[0] != "a" || img.Entrypoint[:2][1] == "b" {
		t.Errorf("spec shares memory with its inputs")
	}
}

func TestOCIBindsAdd(t *testing.T) {
	label := &runconfig.Config{Binds: testStrs("/a:/a", "/b:/b:ro")}
	tests := []struct {
		name string
		yaml *runconfig.Config
		want map[string]specs.Mount // binds only
	}{
		{"label binds", nil, map[string]specs.Mount{
			"/a": {Destination: "/a", Type: "bind", Source: "/a", Options: []string{"rw", "rbind", "rshared"}},
			"/b": {Destination: "/b", Type: "bind", Source: "/b", Options: []string{"ro", "rbind"}},
		}},
		{"binds.add appends", &runconfig.Config{BindsAdd: testStrs("/c:/data:rw,rprivate")}, map[string]specs.Mount{
			"/a":    {Destination: "/a", Type: "bind", Source: "/a", Options: []string{"rw", "rbind", "rshared"}},
			"/b":    {Destination: "/b", Type: "bind", Source: "/b", Options: []string{"ro", "rbind"}},
			"/data": {Destination: "/data", Type: "bind", Source: "/c", Options: []string{"rw", "rprivate", "rbind"}},
		}},
		{"binds.add replaces a bind with the same destination", &runconfig.Config{BindsAdd: testStrs("/other:/a:ro")}, map[string]specs.Mount{
			"/a": {Destination: "/a", Type: "bind", Source: "/other", Options: []string{"ro", "rbind"}},
			"/b": {Destination: "/b", Type: "bind", Source: "/b", Options: []string{"ro", "rbind"}},
		}},
		{"yaml binds replace label binds", &runconfig.Config{Binds: testStrs("/y:/y")}, map[string]specs.Mount{
			"/y": {Destination: "/y", Type: "bind", Source: "/y", Options: []string{"rw", "rbind", "rshared"}},
		}},
		{"yaml binds plus binds.add", &runconfig.Config{Binds: testStrs("/y:/y"), BindsAdd: testStrs("/z:/z")}, map[string]specs.Mount{
			"/y": {Destination: "/y", Type: "bind", Source: "/y", Options: []string{"rw", "rbind", "rshared"}},
			"/z": {Destination: "/z", Type: "bind", Source: "/z", Options: []string{"rw", "rbind", "rshared"}},
		}},
		{"empty yaml binds drop label binds", &runconfig.Config{Binds: testStrs()}, map[string]specs.Mount{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := testSpec(t, testImage, label, tc.yaml)
			got := map[string]specs.Mount{}
			for _, m := range s.Mounts {
				if m.Type == "bind" {
					got[m.Destination] = m
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("binds:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestOCIBindErrors(t *testing.T) {
	tests := []struct {
		name        string
		label, yaml *runconfig.Config
		want        string
	}{
		{"yaml binds", nil, &runconfig.Config{Binds: testStrs("/a:/a", "/b:/b", "x")},
			`service getty: binds[2] "x": want SRC:DST[:OPTS]`},
		{"too many colons", nil, &runconfig.Config{Binds: testStrs("/a:/b:ro:x")},
			`service getty: binds[0] "/a:/b:ro:x": want SRC:DST[:OPTS]`},
		{"empty destination", nil, &runconfig.Config{BindsAdd: testStrs("/a:")},
			`service getty: binds.add[0] "/a:": want SRC:DST[:OPTS]`},
		{"from the label", &runconfig.Config{Binds: testStrs("/a")}, nil,
			`service getty: label binds[0] "/a": want SRC:DST[:OPTS]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Spec("service getty", testImage, tc.label, tc.yaml, nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestOCINamespaces(t *testing.T) {
	tests := []struct {
		name string
		yaml *runconfig.Config
		want []specs.LinuxNamespace
	}{
		{"defaults: host net/ipc/uts/user, new pid", &runconfig.Config{}, []specs.LinuxNamespace{
			{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
		}},
		{"host everywhere", &runconfig.Config{Net: "host", Ipc: "host", Uts: "host", Pid: "host", Userns: "host"}, []specs.LinuxNamespace{
			{Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
		}},
		{"new everywhere", &runconfig.Config{Net: "new", Ipc: "new", Uts: "new", Pid: "new", Userns: "new"}, []specs.LinuxNamespace{
			{Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
			{Type: specs.PIDNamespace}, {Type: specs.UserNamespace},
			{Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
		}},
		{"net none is a new, unconfigured namespace", &runconfig.Config{Net: "none"}, []specs.LinuxNamespace{
			{Type: specs.NetworkNamespace}, {Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
		}},
		{"paths are joined", &runconfig.Config{Net: "/run/netns/svc", Pid: "/proc/1/ns/pid", Uts: "/run/uts"}, []specs.LinuxNamespace{
			{Type: specs.NetworkNamespace, Path: "/run/netns/svc"}, {Type: specs.UTSNamespace, Path: "/run/uts"},
			{Type: specs.PIDNamespace, Path: "/proc/1/ns/pid"}, {Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := testSpec(t, testImage, nil, tc.yaml)
			if !reflect.DeepEqual(s.Linux.Namespaces, tc.want) {
				t.Errorf("namespaces:\n got %+v\nwant %+v", s.Linux.Namespaces, tc.want)
			}
		})
	}
	// YAML overrides the label, which overrides the default.
	s, _ := testSpec(t, testImage, &runconfig.Config{Net: "new", Pid: "host"}, &runconfig.Config{Net: "host"})
	want := []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.CgroupNamespace}}
	if !reflect.DeepEqual(s.Linux.Namespaces, want) {
		t.Errorf("label+yaml namespaces = %+v, want %+v", s.Linux.Namespaces, want)
	}
}

func TestOCICapabilities(t *testing.T) {
	tests := []struct {
		name               string
		label, yaml        *runconfig.Config
		effective, bounded []string
		err                string
	}{
		{"default is none, as LinuxKit", nil, nil, nil, nil, ""},
		{"all", nil, &runconfig.Config{Capabilities: testStrs("all")}, allCaps, testSorted(allCaps), ""},
		{"ALL in the label", &runconfig.Config{Capabilities: testStrs("ALL")}, nil, allCaps, testSorted(allCaps), ""},
		{"none overrides the label", &runconfig.Config{Capabilities: testStrs("all")}, &runconfig.Config{Capabilities: testStrs("none")}, nil, nil, ""},
		{"CAP_ prefix and case normalised, duplicates dropped", nil,
			&runconfig.Config{Capabilities: testStrs("sys_admin", "CAP_NET_RAW", "Net_Admin", "CAP_SYS_ADMIN")},
			[]string{"CAP_SYS_ADMIN", "CAP_NET_RAW", "CAP_NET_ADMIN"},
			[]string{"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_ADMIN"}, ""},
		{"ambient joins the bounding set", nil,
			&runconfig.Config{Capabilities: testStrs("CAP_SYS_ADMIN"), Ambient: testStrs("CAP_NET_BIND_SERVICE")},
			[]string{"CAP_SYS_ADMIN"}, []string{"CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"}, ""},
		{"unknown", nil, &runconfig.Config{Capabilities: testStrs("CAP_CHOWN", "CAP_FLY")}, nil, nil,
			`service test: capabilities[1] "CAP_FLY": unknown capability`},
		{"all among others", &runconfig.Config{Capabilities: testStrs("CAP_CHOWN", "all")}, nil, nil, nil,
			`service test: label capabilities[1] "all": "all" must be the only entry`},
		{"unknown ambient", nil, &runconfig.Config{Ambient: testStrs("nope")}, nil, nil,
			`service test: ambient[0] "nope": unknown capability`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := testSpecOrErr(t, tc.label, tc.yaml, nil, tc.err)
			if err != nil {
				return
			}
			c := s.Process.Capabilities
			if !slices.Equal(c.Effective, tc.effective) {
				t.Errorf("effective = %q, want %q", c.Effective, tc.effective)
			}
			for what, got := range map[string][]string{"bounding": c.Bounding, "permitted": c.Permitted, "inheritable": c.Inheritable} {
				if !slices.Equal(got, tc.bounded) {
					t.Errorf("%s = %q, want %q", what, got, tc.bounded)
				}
			}
		})
	}
	if len(allCaps) != 41 || allCaps[0] != "CAP_CHOWN" || allCaps[40] != "CAP_CHECKPOINT_RESTORE" {
		t.Errorf("allCaps is not the kernel's 0..40 list")
	}
}

// testSpecOrErr is Spec for "service test". With wantErr "", Spec must
// succeed; otherwise it must fail with exactly wantErr, which is returned.
func testSpecOrErr(t *testing.T, label, yaml *runconfig.Config, lookup func(string) (uint32, uint32, error), wantErr string) (*specs.Spec, error) {
	t.Helper()
	s, _, err := Spec("service test", testImage, label, yaml, lookup)
	if wantErr == "" {
		if err != nil {
			t.Fatal(err)
		}
		return s, nil
	}
	if err == nil || err.Error() != wantErr {
		t.Fatalf("err = %v, want %s", err, wantErr)
	}
	return nil, err
}

func testSorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestOCIRlimits(t *testing.T) {
	tests := []struct {
		name   string
		label  *[]string
		yaml   *[]string
		want   []specs.POSIXRlimit
		errSub string
	}{
		{"none", nil, nil, nil, ""},
		{"full names", nil, testStrs("RLIMIT_NOFILE,1024,2048", "RLIMIT_CORE,0,0"),
			[]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}, {Type: "RLIMIT_CORE"}}, ""},
		{"short lower-case names, spaces, unlimited", nil, testStrs("nofile, 4096, unlimited", "memlock,UNLIMITED,unlimited"),
			[]specs.POSIXRlimit{
				{Type: "RLIMIT_NOFILE", Soft: 4096, Hard: math.MaxUint64},
				{Type: "RLIMIT_MEMLOCK", Soft: math.MaxUint64, Hard: math.MaxUint64}}, ""},
		{"yaml replaces label", testStrs("nproc,1,1"), testStrs("nofile,2,3"),
			[]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2, Hard: 3}}, ""},
		{"label", testStrs("nproc,1,1"), nil,
			[]specs.POSIXRlimit{{Type: "RLIMIT_NPROC", Soft: 1, Hard: 1}}, ""},
		{"two fields", nil, testStrs("RLIMIT_NOFILE,1024"), nil,
			`service test: rlimits[0] "RLIMIT_NOFILE,1024": want NAME,SOFT,HARD`},
		{"four fields", nil, testStrs("nofile,1,2", "nofile,1,2,3"), nil,
			`service test: rlimits[1] "nofile,1,2,3": want NAME,SOFT,HARD`},
		{"unknown", testStrs("RLIMIT_BOGUS,1,2"), nil, nil,
			`service test: label rlimits[0] "RLIMIT_BOGUS,1,2": unknown limit "RLIMIT_BOGUS"`},
		{"bad soft", nil, testStrs("nofile,lots,2"), nil,
			`service test: rlimits[0] "nofile,lots,2": soft "lots" is not a number or "unlimited"`},
		{"negative hard", nil, testStrs("nofile,1,-2"), nil,
			`service test: rlimits[0] "nofile,1,-2": hard "-2" is not a number or "unlimited"`},
		{"soft above hard", nil, testStrs("nofile,10,2"), nil,
			`service test: rlimits[0] "nofile,10,2": soft limit above hard limit`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := testSpecOrErr(t, &runconfig.Config{Rlimits: tc.label}, &runconfig.Config{Rlimits: tc.yaml}, nil, tc.errSub)
			if err != nil {
				return
			}
			if !reflect.DeepEqual(s.Process.Rlimits, tc.want) {
				t.Errorf("rlimits = %+v, want %+v", s.Process.Rlimits, tc.want)
			}
		})
	}
}

func TestOCIUser(t *testing.T) {
	errNoUser := errors.New("no such user")
	lookup := func(name string) (uint32, uint32, error) {
		switch name {
		case "bob":
			return 1000, 1001, nil
		case "wheel":
			return 0, 10, nil
		}
		return 0, 0, errNoUser
	}
	tests := []struct {
		name     string
		label    string // JSON label
		yaml     string // YAML options
		uid, gid uint32
		groups   []uint32
		err      string
	}{
		{"default root", ``, ``, 0, 0, nil, ""},
		{"numbers from yaml", ``, "uid: 100\ngid: 101\nadditionalGids: [5, 6]", 100, 101, []uint32{5, 6}, ""},
		{"numbers from label JSON", `{"uid":100,"gid":101,"additionalGids":[7]}`, ``, 100, 101, []uint32{7}, ""},
		{"uid by name", ``, "uid: bob", 1000, 0, nil, ""},
		{"gid and groups by name use the gid", ``, "uid: bob\ngid: bob\nadditionalGids: [wheel, 3]", 1000, 1001, []uint32{10, 3}, ""},
		{"yaml over label", `{"uid":"bob","gid":5}`, "uid: 7", 7, 5, nil, ""},
		{"root and numeric strings", ``, "uid: root\ngid: \"42\"", 0, 42, nil, ""},
		{"unknown name", ``, "uid: alice", 0, 0, nil, `service test: uid "alice": no such user`},
		{"unknown group in label", `{"additionalGids":[1,"nogroup"]}`, ``, 0, 0, nil, `service test: label additionalGids[1] "nogroup": no such user`},
		{"negative", ``, "gid: -1", 0, 0, nil, `service test: gid -1: not a valid id (want 0 to 4294967295, or a name)`},
		{"fraction", `{"uid":1.5}`, ``, 0, 0, nil, `service test: label uid 1.5: not a valid id (want 0 to 4294967295, or a name)`},
		{"too big", ``, "uid: 4294967296", 0, 0, nil, `service test: uid 4294967296: not a valid id (want 0 to 4294967295, or a name)`},
		{"bad type", ``, "uid: [1]", 0, 0, nil, `service test: uid: bad type []interface {} for an id`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var label, y *runconfig.Config
			if tc.label != "" {
				label = testLabel(t, tc.label)
			}
			if tc.yaml != "" {
				y = testYAML(t, tc.yaml)
			}
			s, err := testSpecOrErr(t, label, y, lookup, tc.err)
			if err != nil {
				if strings.Contains(tc.err, "no such user") && !errors.Is(err, errNoUser) {
					t.Errorf("lookup error not wrapped: %v", err)
				}
				return
			}
			u := s.Process.User
			if u.UID != tc.uid || u.GID != tc.gid || !slices.Equal(u.AdditionalGids, tc.groups) {
				t.Errorf("user = %+v, want uid %d gid %d groups %v", u, tc.uid, tc.gid, tc.groups)
			}
		})
	}
	if _, _, err := Spec("service test", testImage, nil, &runconfig.Config{UID: testPtr[any]("bob")}, nil); err == nil ||
		!strings.Contains(err.Error(), `uid "bob": cannot resolve names`) {
		t.Errorf("name without lookup: err = %v", err)
	}
}

func TestOCIDefaultMounts(t *testing.T) {
	s, _ := testSpec(t, testImage, nil, nil)
	want := []specs.Mount{
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "nodev", "noexec", "relatime"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
	if !reflect.DeepEqual(s.Mounts, want) {
		t.Errorf("mounts:\n got %+v\nwant %+v", s.Mounts, want)
	}
	if s.Root == nil || s.Root.Path != "rootfs" || s.Root.Readonly {
		t.Errorf("root = %+v", s.Root)
	}
	if s.Version != specs.Version {
		t.Errorf("version = %q", s.Version)
	}
	// LinuxKit sets no masked or read-only paths unless asked.
	if s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil {
		t.Errorf("masked %q readonly %q, want none", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
}

func TestOCIReadonlyRoot(t *testing.T) {
	for _, tc := range []struct {
		name        string
		label, yaml *bool
		want        bool
	}{
		{"unset", nil, nil, false},
		{"label", testPtr(true), nil, true},
		{"yaml", nil, testPtr(true), true},
		{"yaml false over label true", testPtr(true), testPtr(false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := testSpec(t, testImage, &runconfig.Config{Readonly: tc.label}, &runconfig.Config{Readonly: tc.yaml})
			if s.Root.Readonly != tc.want {
				t.Errorf("root readonly = %v, want %v", s.Root.Readonly, tc.want)
			}
			for _, dst := range []string{"/dev", "/sys"} {
				if got := slices.Contains(testMount(s, dst).Options, "ro"); got != tc.want {
					t.Errorf("%s ro = %v, want %v", dst, got, tc.want)
				}
			}
		})
	}
}

func TestOCITmpfsAndMounts(t *testing.T) {
	y := &runconfig.Config{
		Tmpfs: testStrs("/run", "/tmp:size=10m,mode=1777", "/dev:nosuid"),
		Mounts: &[]specs.Mount{
			{Source: "mqueue"},
			{Destination: "/var/cache", Type: "tmpfs", Options: []string{"ro"}},
		},
	}
	s, _ := testSpec(t, testImage, nil, y)
	want := map[string]specs.Mount{
		"/run":        {Destination: "/run", Type: "tmpfs", Source: "tmpfs"},
		"/tmp":        {Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=10m", "mode=1777"}},
		"/dev":        {Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid"}},
		"/dev/mqueue": {Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue"},
		"/var/cache":  {Destination: "/var/cache", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro"}},
	}
	for dst, w := range want {
		if got := testMount(s, dst); got == nil || !reflect.DeepEqual(*got, w) {
			t.Errorf("mount %s = %+v, want %+v", dst, got, w)
		}
	}
	if !slices.IsSortedFunc(s.Mounts, func(a, b specs.Mount) int { return strings.Compare(a.Destination, b.Destination) }) {
		t.Errorf("mounts not sorted by destination")
	}

	for _, tc := range []struct {
		name string
		yaml *runconfig.Config
		want string
	}{
		{"tmpfs colons", &runconfig.Config{Tmpfs: testStrs("/a:b:c")}, `service test: tmpfs[0] "/a:b:c": want DST[:OPTS]`},
		{"tmpfs empty", &runconfig.Config{Tmpfs: testStrs("/a", ":size=1")}, `service test: tmpfs[1] ":size=1": want DST[:OPTS]`},
		{"mount without type", &runconfig.Config{Mounts: &[]specs.Mount{{Destination: "/x", Source: "/y"}}}, `service test: mounts[0] (destination "/x"): missing type`},
		{"mount without destination", &runconfig.Config{Mounts: &[]specs.Mount{{Type: "tmpfs"}}}, `service test: mounts[0] (type "tmpfs"): missing destination`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Spec("service test", testImage, nil, tc.yaml, nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestOCIOtherFields(t *testing.T) {
	label := testLabel(t, `{
		"hostname": "labelhost",
		"sysctl": {"net.ipv4.ip_forward": "1"},
		"annotations": {"a": "label"},
		"noNewPrivileges": true,
		"oomScoreAdj": -500,
		"rootfsPropagation": "shared",
		"cgroupsPath": "/label",
		"maskedPaths": ["/proc/kcore"],
		"readonlyPaths": ["/proc/sys"],
		"resources": {"memory": {"limit": 1048576}},
		"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]
	}`)
	y := testYAML(t, "hostname: yamlhost\nannotations: {b: yaml}\ncgroupsPath: /yaml\n")
	s, _ := testSpec(t, testImage, label, y)
	if s.Hostname != "yamlhost" {
		t.Errorf("hostname = %q", s.Hostname)
	}
	if !reflect.DeepEqual(s.Annotations, map[string]string{"b": "yaml"}) {
		t.Errorf("annotations = %v", s.Annotations)
	}
	l := s.Linux
	if !reflect.DeepEqual(l.Sysctl, map[string]string{"net.ipv4.ip_forward": "1"}) || l.CgroupsPath != "/yaml" ||
		l.RootfsPropagation != "shared" || !slices.Equal(l.MaskedPaths, []string{"/proc/kcore"}) ||
		!slices.Equal(l.ReadonlyPaths, []string{"/proc/sys"}) ||
		l.Resources == nil || l.Resources.Memory == nil || *l.Resources.Memory.Limit != 1048576 ||
		!reflect.DeepEqual(l.UIDMappings, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}) {
		t.Errorf("linux = %+v", l)
	}
	if !s.Process.NoNewPrivileges || s.Process.OOMScoreAdj == nil || *s.Process.OOMScoreAdj != -500 {
		t.Errorf("process = %+v", s.Process)
	}
	// The spec's resources are a copy.
	*l.Resources.Memory.Limit = 1
	if *label.Resources.Memory.Limit != 1048576 {
		t.Errorf("resources shared with the label")
	}
}

func TestOCIRuntimeSection(t *testing.T) {
	label := testLabel(t, `{"runtime":{"mkdir":["/var/lib/x"],"cgroups":["x"],"bindNS":{"net":"/run/netns/x"}}}`)
	y := testYAML(t, "runtime:\n  mkdir: [/var/lib/y]\n  namespace: ns\n  interfaces:\n    - name: eth1\n      add: veth\n      peer: veth1\n")
	_, rt := testSpec(t, testImage, label, y)
	if !slices.Equal(*rt.Mkdir, []string{"/var/lib/y"}) || !slices.Equal(*rt.Cgroups, []string{"x"}) ||
		*rt.BindNS.Net != "/run/netns/x" || *rt.BindNS.Pid != "" || *rt.Namespace != "ns" ||
		len(*rt.Mounts) != 0 || len(*rt.Interfaces) != 1 || (*rt.Interfaces)[0].Peer != "veth1" {
		b, _ := json.Marshal(rt)
		t.Errorf("runtime = %s", b)
	}
	// No runtime anywhere: every pointer is still set.
	_, rt = testSpec(t, testImage, nil, nil)
	if rt.Cgroups == nil || rt.Mounts == nil || rt.Mkdir == nil || rt.Interfaces == nil || rt.Namespace == nil ||
		rt.BindNS.Cgroup == nil || rt.BindNS.Ipc == nil || rt.BindNS.Mnt == nil || rt.BindNS.Net == nil ||
		rt.BindNS.Pid == nil || rt.BindNS.User == nil || rt.BindNS.Uts == nil {
		t.Errorf("runtime has nil fields: %+v", rt)
	}
}

func TestOCINoCommand(t *testing.T) {
	_, _, err := Spec("onboot 000-x", v1.Config{}, nil, nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "onboot 000-x: no command") {
		t.Errorf("err = %v", err)
	}
}

// The dhcpcd label of pkgs/dhcpcd/build.yml, as LinuxKit's dhcpcd package
// declares it.
const testDhcpcdConfig = `
binds:
  - /var/run:/run
  - /var/lib/dhcpcd:/var/lib/dhcpcd
  - /tmp:/tmp
  - /etc/resolv.conf:/etc/resolv.conf
  - /run/resolvconf:/run/resolvconf
tmpfs:
  - /run
capabilities:
  - CAP_NET_ADMIN
  - CAP_NET_BIND_SERVICE
  - CAP_NET_RAW
  - CAP_SYS_ADMIN
net: host
command:
  - /sbin/dhcpcd
  - --nobackground
  - -f
  - /dhcpcd.conf
  - -1
runtime:
  mkdir:
    - /var/lib/dhcpcd
    - /run/resolvconf
`

func TestOCIDhcpcdLabel(t *testing.T) {
	// build.yml config -> label value -> decoded label, as the pipeline does.
	lv, err := testYAML(t, testDhcpcdConfig).LabelValue()
	if err != nil {
		t.Fatal(err)
	}
	label := testLabel(t, lv)
	img := v1.Config{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, Labels: map[string]string{runconfig.Label: lv}}
	// The image YAML entry of LinuxKit's examples: just name and image.
	s, rt, err := Spec("onboot 001-dhcpcd", img, label, &runconfig.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	bind := func(src, dst string) specs.Mount {
		return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"rw", "rbind", "rshared"}}
	}
	wantMounts := []specs.Mount{
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		bind("/etc/resolv.conf", "/etc/resolv.conf"),
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "nodev", "noexec", "relatime"}},
		bind("/var/run", "/run"), // the bind replaces the tmpfs at /run, as in LinuxKit
		bind("/run/resolvconf", "/run/resolvconf"),
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		bind("/tmp", "/tmp"),
		bind("/var/lib/dhcpcd", "/var/lib/dhcpcd"),
	}
	if !reflect.DeepEqual(s.Mounts, wantMounts) {
		t.Errorf("mounts:\n got %+v\nwant %+v", s.Mounts, wantMounts)
	}
	wantNS := []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.CgroupNamespace}}
	if !reflect.DeepEqual(s.Linux.Namespaces, wantNS) {
		t.Errorf("namespaces = %+v, want %+v", s.Linux.Namespaces, wantNS)
	}
	wantCaps := []string{"CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_ADMIN"}
	c := s.Process.Capabilities
	if !slices.Equal(c.Effective, wantCaps) || !slices.Equal(c.Bounding, wantCaps) ||
		!slices.Equal(c.Permitted, wantCaps) || !slices.Equal(c.Inheritable, wantCaps) || len(c.Ambient) != 0 {
		t.Errorf("capabilities = %+v", c)
	}
	if !slices.Equal(s.Process.Args, []string{"/sbin/dhcpcd", "--nobackground", "-f", "/dhcpcd.conf", "-1"}) ||
		!slices.Equal(s.Process.Env, img.Env) || s.Process.Cwd != "/" {
		t.Errorf("process = %+v", s.Process)
	}
	if !slices.Equal(*rt.Mkdir, []string{"/var/lib/dhcpcd", "/run/resolvconf"}) {
		t.Errorf("runtime mkdir = %q", *rt.Mkdir)
	}
	// The YAML entry can give the service its own network namespace.
	s, _, err = Spec("onboot 001-dhcpcd", img, label, &runconfig.Config{Net: "/run/netns/eth1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ns := s.Linux.Namespaces[0]; ns.Type != specs.NetworkNamespace || ns.Path != "/run/netns/eth1" {
		t.Errorf("namespaces = %+v", s.Linux.Namespaces)
	}
}

func TestSpecJSONDeterministic(t *testing.T) {
	build := func() []byte {
		t.Helper()
		label := testLabel(t, `{
			"capabilities": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_CHOWN"],
			"binds": ["/a:/a", "/b:/b", "/c:/c", "/d:/d", "/e:/e", "/f:/f"],
			"tmpfs": ["/t1", "/t2", "/t3"],
			"sysctl": {"z": "1", "a": "2", "m": "3", "b": "4"},
			"annotations": {"x": "<&>", "y": "2", "c": "3"},
			"rlimits": ["nofile,1,2"],
			"resources": {"cpu": {"shares": 2}}
		}`)
		s, _, err := Spec("service det", testImage, label, &runconfig.Config{BindsAdd: testStrs("/g:/g")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := JSON(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := build()
	for range 20 {
		if b := build(); !bytes.Equal(b, first) {
			t.Fatalf("JSON differs between runs:\n%s\n---\n%s", first, b)
		}
	}
	if !bytes.HasPrefix(first, []byte("{\n  \"ociVersion\": \""+specs.Version+"\",\n  \"process\": {\n")) || !bytes.HasSuffix(first, []byte("}\n")) {
		t.Errorf("unexpected layout:\n%s", first)
	}
	if !bytes.Contains(first, []byte(`"x": "<&>"`)) {
		t.Errorf("HTML-escaped output:\n%s", first)
	}
	if !bytes.Contains(first, []byte("\"a\": \"2\",\n      \"b\": \"4\",\n      \"m\": \"3\",\n      \"z\": \"1\"")) {
		t.Errorf("sysctl keys not sorted:\n%s", first)
	}
	// The bytes round-trip to the same spec.
	var back specs.Spec
	if err := json.Unmarshal(first, &back); err != nil {
		t.Fatal(err)
	}
	again, err := JSON(&back)
	if err != nil || !bytes.Equal(again, first) {
		t.Errorf("round trip changed the JSON (err %v)", err)
	}
	if _, err := JSON(nil); err == nil {
		t.Errorf("JSON(nil) succeeded")
	}
}
