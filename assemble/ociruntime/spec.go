package ociruntime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/lkpkg/lkpkg/runconfig"
)

// Spec builds the runtime spec and LinuxKit runtime section for a
// container named name from, in rising precedence, the image's OCI config,
// its org.mobyproject.config label and the image YAML entry (label and yaml
// may be nil). lookup resolves user and group names found in uid, gid and
// additionalGids (for uid the returned uid is used, for gid and
// additionalGids the returned gid); it may be nil if no names are used.
//
// name only appears in error messages, which read "NAME: FIELD ...": pass
// the section too (e.g. "service getty") if the caller does not add it.
// Fields coming from the label are reported as "label FIELD".
//
// The spec matches LinuxKit's moby.ConfigToOCI:
//   - process args: YAML command, else label command, else Entrypoint+Cmd;
//     env: YAML, else label, else image Env (whole lists, not merged);
//     cwd: YAML, else label, else WorkingDir, else "/". The image's User is
//     ignored, as LinuxKit does: uid and gid default to 0.
//   - capabilities: YAML, else label, else none. A single "all" means every
//     capability, a single "none" none. Names are upper-cased and given a
//     CAP_ prefix if they lack one. Bounding, permitted and inheritable hold
//     capabilities plus ambient, sorted; effective holds capabilities.
//   - namespaces: net, ipc, uts and userns share the host's unless set;
//     pid gets a new one unless set. "host" (or "root") shares the host's,
//     "new" (or "none" for net) makes a new one, any other value is a path
//     to join. Mount and cgroup namespaces are always new.
//   - mounts, by destination, later ones replacing earlier: the defaults
//     (/dev, /dev/pts, /proc, /sys, /sys/fs/cgroup; /dev and /sys read-only
//     when readonly is set), then tmpfs "DST[:OPTS]", then binds
//     "SRC:DST[:OPTS]" (options "rw,rbind,rshared" when none are given,
//     else OPTS plus "rbind"), then mounts; sorted by destination.
//   - binds: YAML binds, else label binds; then the label's and YAML's
//     binds.add are appended.
//   - rlimits "NAME,SOFT,HARD" (NAME with or without RLIMIT_, any case;
//     SOFT and HARD a number or "unlimited").
//
// The returned Runtime has every list and namespace pointer set (empty when
// unset), as LinuxKit's, so that init can read it without nil checks.
func Spec(name string, imgCfg v1.Config, label *runconfig.Config, yaml *runconfig.Config, lookup func(user string) (uid, gid uint32, err error)) (*specs.Spec, *runconfig.Runtime, error) {
	if label == nil {
		label = &runconfig.Config{}
	}
	if yaml == nil {
		yaml = &runconfig.Config{}
	}
	// Errors read "NAME: FIELD ..." and wrap the cause (e.g. lookup's error).
	fail := func(err error) (*specs.Spec, *runconfig.Runtime, error) {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}

	// Command, env and cwd may come from the image config.
	var args []string
	switch {
	case yaml.Command != nil:
		args = slices.Clone(*yaml.Command)
	case label.Command != nil:
		args = slices.Clone(*label.Command)
	default:
		args = append(slices.Clone(imgCfg.Entrypoint), imgCfg.Cmd...)
	}
	if len(args) == 0 {
		return fail(fmt.Errorf("no command: set command in the YAML or the %s label, or Entrypoint/Cmd in the image", runconfig.Label))
	}
	env := slices.Clone(pickStrings(imgCfg.Env, label.Env, yaml.Env))
	cwd := firstNonEmpty(yaml.Cwd, label.Cwd, imgCfg.WorkingDir, "/")

	readonly := pickBool(label.Readonly, yaml.Readonly)

	mounts, err := mountsOf(label, yaml, readonly)
	if err != nil {
		return fail(err)
	}
	namespaces := namespacesOf(label, yaml)

	caps, err := capsOf("capabilities", label.Capabilities, yaml.Capabilities, defaultCaps)
	if err != nil {
		return fail(err)
	}
	ambient, err := capsOf("ambient", label.Ambient, yaml.Ambient, []string{})
	if err != nil {
		return fail(err)
	}
	bounding := sortedUnion(caps, ambient)

	rlimits, err := rlimitsOf(label.Rlimits, yaml.Rlimits)
	if err != nil {
		return fail(err)
	}

	user, err := userOf(label, yaml, lookup)
	if err != nil {
		return fail(err)
	}
	resources, err := resourcesOf(label, yaml)
	if err != nil {
		return fail(err)
	}

	spec := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			User: user,
			Args: args,
			Env:  env,
			Cwd:  cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding:    bounding,
				Effective:   caps,
				Inheritable: slices.Clone(bounding),
				Permitted:   slices.Clone(bounding),
				Ambient:     ambient,
			},
			Rlimits:         rlimits,
			NoNewPrivileges: pickBool(label.NoNewPrivileges, yaml.NoNewPrivileges),
		},
		Root: &specs.Root{
			Path:     "rootfs",
			Readonly: readonly,
		},
		Hostname:    firstNonEmpty(yaml.Hostname, label.Hostname),
		Mounts:      mounts,
		Annotations: pickMap(label.Annotations, yaml.Annotations),
		Linux: &specs.Linux{
			UIDMappings:       slices.Clone(deref(pick(label.UIDMappings, yaml.UIDMappings))),
			GIDMappings:       slices.Clone(deref(pick(label.GIDMappings, yaml.GIDMappings))),
			Sysctl:            pickMap(label.Sysctl, yaml.Sysctl),
			Resources:         &resources,
			CgroupsPath:       deref(pick(label.CgroupsPath, yaml.CgroupsPath)),
			Namespaces:        namespaces,
			RootfsPropagation: deref(pick(label.RootfsPropagation, yaml.RootfsPropagation)),
			MaskedPaths:       slices.Clone(deref(pick(label.MaskedPaths, yaml.MaskedPaths))),
			ReadonlyPaths:     slices.Clone(deref(pick(label.ReadonlyPaths, yaml.ReadonlyPaths))),
		},
	}
	if adj := pick(label.OOMScoreAdj, yaml.OOMScoreAdj); adj != nil {
		v := *adj
		spec.Process.OOMScoreAdj = &v
	}

	return spec, runtimeOf(label.Runtime, yaml.Runtime), nil
}

// userOf is the process's uid, gid and additional gids: YAML, else label,
// else 0 (the image's User is ignored, as by LinuxKit); names are resolved
// by lookup.
func userOf(label, yaml *runconfig.Config, lookup func(string) (uint32, uint32, error)) (specs.User, error) {
	uid, err := pickID("uid", label.UID, yaml.UID, lookup, false)
	if err != nil {
		return specs.User{}, err
	}
	gid, err := pickID("gid", label.GID, yaml.GID, lookup, true)
	if err != nil {
		return specs.User{}, err
	}
	var additionalGids []uint32
	agField, agList := "additionalGids", []any(nil)
	switch {
	case yaml.AdditionalGids != nil:
		agList = *yaml.AdditionalGids
	case label.AdditionalGids != nil:
		agField, agList = "label additionalGids", *label.AdditionalGids
	}
	for i, v := range agList {
		g, err := ID(fmt.Sprintf("%s[%d]", agField, i), v, lookup, true)
		if err != nil {
			return specs.User{}, err
		}
		additionalGids = append(additionalGids, g)
	}
	return specs.User{UID: uid, GID: gid, AdditionalGids: additionalGids}, nil
}

// resourcesOf is the YAML's resources, else the label's, as a deep copy
// so that the spec shares nothing with the inputs.
func resourcesOf(label, yaml *runconfig.Config) (specs.LinuxResources, error) {
	var resources specs.LinuxResources
	if r := pick(label.Resources, yaml.Resources); r != nil {
		// A deep copy, so the spec shares nothing with the inputs.
		b, err := json.Marshal(r)
		if err == nil {
			err = json.Unmarshal(b, &resources)
		}
		if err != nil {
			return resources, fmt.Errorf("resources: %w", err)
		}
	}
	return resources, nil
}

// JSON marshals s as config.json: indented by two spaces, fields in the
// order of the runtime-spec structs, map keys sorted, no HTML escaping, and
// a final newline. The same spec always gives the same bytes.
func JSON(s *specs.Spec) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("nil spec")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pick returns the YAML value if set, else the label's.
func pick[T any](label, yaml *T) *T {
	if yaml != nil {
		return yaml
	}
	return label
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func pickBool(label, yaml *bool) bool {
	return deref(pick(label, yaml))
}

// pickStrings returns the YAML list if set, else the label's, else img.
func pickStrings(img []string, label, yaml *[]string) []string {
	if p := pick(label, yaml); p != nil {
		return *p
	}
	return img
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// pickMap copies the YAML map if set, else the label's.
func pickMap(label, yaml *map[string]string) map[string]string {
	p := pick(label, yaml)
	if p == nil || len(*p) == 0 {
		return nil
	}
	m := make(map[string]string, len(*p))
	for k, v := range *p {
		m[k] = v
	}
	return m
}

// entry is one list element with the field it came from, for errors.
type entry struct {
	field string // e.g. "binds[2]" or "label binds[2]"
	value string
}

func entriesOf(field string, list []string) []entry {
	var out []entry
	for i, v := range list {
		out = append(out, entry{fmt.Sprintf("%s[%d]", field, i), v})
	}
	return out
}

// pickEntries returns the entries of the YAML list if set, else the label's.
func pickEntries(field string, label, yaml *[]string) []entry {
	switch {
	case yaml != nil:
		return entriesOf(field, *yaml)
	case label != nil:
		return entriesOf("label "+field, *label)
	}
	return nil
}

// mountsOf builds the sorted mount list: defaults < tmpfs < binds < mounts,
// keyed by destination.
func mountsOf(label, yaml *runconfig.Config, readonly bool) ([]specs.Mount, error) {
	// The defaults match LinuxKit's (which match Docker's options), and like
	// LinuxKit's leave out /dev/shm and /dev/mqueue.
	devOptions := []string{"nosuid", "strictatime", "mode=755", "size=65536k"}
	sysOptions := []string{"nosuid", "noexec", "nodev"}
	if readonly {
		devOptions = append(devOptions, "ro")
		sysOptions = append(sysOptions, "ro")
	}
	mounts := map[string]specs.Mount{
		"/proc":          {Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "nodev", "noexec", "relatime"}},
		"/dev":           {Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: devOptions},
		"/dev/pts":       {Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		"/sys":           {Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: sysOptions},
		"/sys/fs/cgroup": {Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}

	for _, e := range pickEntries("tmpfs", label.Tmpfs, yaml.Tmpfs) {
		parts := strings.Split(e.value, ":")
		if len(parts) > 2 || parts[0] == "" {
			return nil, fmt.Errorf("%s %q: want DST[:OPTS]", e.field, e.value)
		}
		var opts []string
		if len(parts) == 2 {
			opts = strings.Split(parts[1], ",")
		}
		mounts[parts[0]] = specs.Mount{Destination: parts[0], Type: "tmpfs", Source: "tmpfs", Options: opts}
	}

	binds := pickEntries("binds", label.Binds, yaml.Binds)
	if label.BindsAdd != nil {
		binds = append(binds, entriesOf("label binds.add", *label.BindsAdd)...)
	}
	if yaml.BindsAdd != nil {
		binds = append(binds, entriesOf("binds.add", *yaml.BindsAdd)...)
	}
	for _, e := range binds {
		parts := strings.Split(e.value, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("%s %q: want SRC:DST[:OPTS]", e.field, e.value)
		}
		src, dst := parts[0], parts[1]
		// LinuxKit's default is rshared, so that mounts made below a bind
		// by the container (or the host) propagate.
		opts := []string{"rw", "rbind", "rshared"}
		if len(parts) == 3 {
			opts = append(strings.Split(parts[2], ","), "rbind")
		}
		mounts[dst] = specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
	}

	var mountList []specs.Mount
	if p := pick(label.Mounts, yaml.Mounts); p != nil {
		mountList = *p
	}
	field := "mounts"
	if yaml.Mounts == nil {
		field = "label mounts"
	}
	for i, m := range mountList {
		tp, src, dst := m.Type, m.Source, m.Destination
		if tp == "" {
			switch src {
			case "mqueue", "devpts", "proc", "sysfs", "cgroup":
				tp = src
			}
		}
		if tp == "" && dst == "/dev" {
			tp = "tmpfs"
		}
		if tp == "" {
			return nil, fmt.Errorf("%s[%d] (destination %q): missing type", field, i, dst)
		}
		if src == "" {
			src = tp
		}
		if dst == "" {
			dst = defaultMountpoint(tp)
		}
		if dst == "" {
			return nil, fmt.Errorf("%s[%d] (type %q): missing destination", field, i, tp)
		}
		mounts[dst] = specs.Mount{Destination: dst, Type: tp, Source: src, Options: slices.Clone(m.Options)}
	}

	out := make([]specs.Mount, 0, len(mounts))
	for _, m := range mounts {
		out = append(out, m)
	}
	// Sorted by destination: deterministic, and a parent (/dev) always
	// precedes what is mounted below it (/dev/pts).
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out, nil
}

func defaultMountpoint(tp string) string {
	switch tp {
	case "proc":
		return "/proc"
	case "devpts":
		return "/dev/pts"
	case "sysfs":
		return "/sys"
	case "cgroup":
		return "/sys/fs/cgroup"
	case "mqueue":
		return "/dev/mqueue"
	}
	return ""
}

// namespacesOf lists the namespaces to create or join, in LinuxKit's order:
// network, ipc, uts, pid, user, mount, cgroup. A namespace shared with the
// host is left out.
func namespacesOf(label, yaml *runconfig.Config) []specs.LinuxNamespace {
	var ns []specs.LinuxNamespace
	add := func(t specs.LinuxNamespaceType, def, label, yaml string, newWords ...string) {
		v := firstNonEmpty(yaml, label, def)
		if v == "host" || v == "root" {
			return
		}
		if slices.Contains(newWords, v) {
			v = ""
		}
		ns = append(ns, specs.LinuxNamespace{Type: t, Path: v})
	}
	add(specs.NetworkNamespace, "root", label.Net, yaml.Net, "new", "none")
	add(specs.IPCNamespace, "root", label.Ipc, yaml.Ipc, "new")
	add(specs.UTSNamespace, "root", label.Uts, yaml.Uts, "new")
	add(specs.PIDNamespace, "new", label.Pid, yaml.Pid, "new")
	add(specs.UserNamespace, "root", label.Userns, yaml.Userns, "new")
	ns = append(ns,
		specs.LinuxNamespace{Type: specs.MountNamespace},
		specs.LinuxNamespace{Type: specs.CgroupNamespace})
	return ns
}

// pickID resolves uid or gid: YAML, else label, else 0.
func pickID(field string, label, yaml *any, lookup func(string) (uint32, uint32, error), group bool) (uint32, error) {
	switch {
	case yaml != nil:
		return ID(field, *yaml, lookup, group)
	case label != nil:
		return ID("label "+field, *label, lookup, group)
	}
	return 0, nil
}

// ID converts one id: a number (as decoded from YAML or JSON), a
// numeric string, or a name resolved by lookup ("" and "root" are 0).
func ID(field string, v any, lookup func(string) (uint32, uint32, error), group bool) (uint32, error) {
	bad := func() (uint32, error) {
		return 0, fmt.Errorf("%s %v: not a valid id (want 0 to %d, or a name)", field, v, uint32(math.MaxUint32))
	}
	var n int64
	switch id := v.(type) {
	case nil:
		return 0, nil
	case int:
		n = int64(id)
	case int64:
		n = id
	case uint64:
		if id > math.MaxUint32 {
			return bad()
		}
		n = int64(id)
	case uint32:
		return id, nil
	case float64:
		if id != math.Trunc(id) || id < 0 || id > math.MaxUint32 {
			return bad()
		}
		n = int64(id)
	case json.Number:
		i, err := id.Int64()
		if err != nil {
			return bad()
		}
		n = i
	case string:
		if id == "" || id == "root" {
			return 0, nil
		}
		if i, err := strconv.ParseUint(id, 10, 32); err == nil {
			return uint32(i), nil
		}
		if lookup == nil {
			return 0, fmt.Errorf("%s %q: cannot resolve names (no /etc/passwd lookup)", field, id)
		}
		uid, gid, err := lookup(id)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %w", field, id, err)
		}
		if group {
			return gid, nil
		}
		return uid, nil
	default:
		return 0, fmt.Errorf("%s: bad type %T for an id", field, v)
	}
	if n < 0 || n > math.MaxUint32 {
		return bad()
	}
	return uint32(n), nil
}

// runtimeOf merges the runtime sections field by field (YAML over label),
// filling every pointer as LinuxKit does.
func runtimeOf(label, yaml *runconfig.Runtime) *runconfig.Runtime {
	if label == nil {
		label = &runconfig.Runtime{}
	}
	if yaml == nil {
		yaml = &runconfig.Runtime{}
	}
	str := func(l, y *string) *string {
		s := deref(pick(l, y))
		return &s
	}
	cgroups := slices.Clone(deref(pick(label.Cgroups, yaml.Cgroups)))
	if cgroups == nil {
		cgroups = []string{}
	}
	mounts := []specs.Mount{}
	if p := pick(label.Mounts, yaml.Mounts); p != nil {
		for _, m := range *p {
			m.Options = slices.Clone(m.Options)
			mounts = append(mounts, m)
		}
	}
	mkdir := slices.Clone(deref(pick(label.Mkdir, yaml.Mkdir)))
	if mkdir == nil {
		mkdir = []string{}
	}
	ifaces := slices.Clone(deref(pick(label.Interfaces, yaml.Interfaces)))
	if ifaces == nil {
		ifaces = []runconfig.Interface{}
	}
	return &runconfig.Runtime{
		Cgroups:    &cgroups,
		Mounts:     &mounts,
		Mkdir:      &mkdir,
		Interfaces: &ifaces,
		BindNS: runconfig.Namespaces{
			Cgroup: str(label.BindNS.Cgroup, yaml.BindNS.Cgroup),
			Ipc:    str(label.BindNS.Ipc, yaml.BindNS.Ipc),
			Mnt:    str(label.BindNS.Mnt, yaml.BindNS.Mnt),
			Net:    str(label.BindNS.Net, yaml.BindNS.Net),
			Pid:    str(label.BindNS.Pid, yaml.BindNS.Pid),
			User:   str(label.BindNS.User, yaml.BindNS.User),
			Uts:    str(label.BindNS.Uts, yaml.BindNS.Uts),
		},
		Namespace: str(label.Namespace, yaml.Namespace),
	}
}
