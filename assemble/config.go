// Package assemble builds LinuxKit-style OS images from an image YAML file
// (`lkpkg build IMAGE.yml`, like `linuxkit build`).
package assemble

import (
	"errors"
	"fmt"
	"os"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"gopkg.in/yaml.v3"

	"github.com/lkpkg/lkpkg/internal/yamlerr"
	"github.com/lkpkg/lkpkg/runconfig"
)

// Image is one image YAML file, field for field as LinuxKit's moby.Moby
// defines it, plus lkpkg's signature policy under `trust`.
type Image struct {
	Kernel     Kernel       `yaml:"kernel,omitempty"`
	Init       []string     `yaml:"init,omitempty"`
	Onboot     []ImageEntry `yaml:"onboot,omitempty"`
	Onshutdown []ImageEntry `yaml:"onshutdown,omitempty"`
	Services   []ImageEntry `yaml:"services,omitempty"`
	Files      []File       `yaml:"files,omitempty"`
	Volumes    []Volume     `yaml:"volumes,omitempty"`
	Trust      Trust        `yaml:"trust,omitempty"`
}

// Kernel is the `kernel` section. It is optional, as in LinuxKit: an
// image without one is a root filesystem only.
type Kernel struct {
	// Image holds the kernel binary, kernel.tar and optionally microcode.
	Image string `yaml:"image,omitempty"`
	// Cmdline is the kernel command line.
	Cmdline string `yaml:"cmdline,omitempty"`
	// Binary is the kernel's path in Image (LinuxKit default "kernel").
	Binary string `yaml:"binary,omitempty"`
	// Tar is the path in Image of the tar unpacked into the root
	// filesystem (LinuxKit default "kernel.tar"; "none" for none).
	Tar string `yaml:"tar,omitempty"`
	// UCode is the path in Image of a CPU microcode cpio to prepend to
	// the initrd.
	UCode string `yaml:"ucode,omitempty"`
}

// ImageEntry is one container of onboot, onshutdown or services: a name,
// an image, and LinuxKit's container options, which override those of the
// image's org.mobyproject.config label.
type ImageEntry struct {
	Name             string `yaml:"name"`
	Image            string `yaml:"image"`
	runconfig.Config `yaml:",inline"`
}

// File is one entry of `files`: exactly one of Contents, Source,
// Metadata, Directory or Symlink says what it is.
type File struct {
	// Path in the root filesystem; a leading "/" is dropped, as in LinuxKit.
	Path      string `yaml:"path"`
	Directory bool   `yaml:"directory,omitempty"`
	Symlink   string `yaml:"symlink,omitempty"`
	// Contents is a pointer so that `contents: ""` (an empty file) is set.
	Contents *string `yaml:"contents,omitempty"`
	// Source is a file on the build host (a leading "~/" is the home
	// directory, as in LinuxKit).
	Source string `yaml:"source,omitempty"`
	// Metadata "yaml" writes the image YAML itself into the file.
	Metadata string `yaml:"metadata,omitempty"`
	// Optional skips a missing Source instead of failing.
	Optional bool `yaml:"optional,omitempty"`
	// Mode is an octal string such as "0644" (LinuxKit defaults: 0600,
	// 0700 for directories).
	Mode string `yaml:"mode,omitempty"`
	// UID and GID are numbers or user/group names from the image's
	// /etc/passwd and /etc/group.
	UID any `yaml:"uid,omitempty"`
	GID any `yaml:"gid,omitempty"`
}

// Volume is one entry of `volumes`: a named directory, filled from an
// image or empty, that containers bind by name.
type Volume struct {
	Name      string   `yaml:"name"`
	Image     string   `yaml:"image,omitempty"`
	ReadOnly  bool     `yaml:"readonly,omitempty"`
	Format    string   `yaml:"format,omitempty"`
	Platforms []string `yaml:"platforms,omitempty"`
}

// Trust says which images must be signed and how they are verified.
//
// Org and Image are LinuxKit's lists (which images Docker Content Trust
// verified). lkpkg has no Docker Content Trust: they only select images
// that must verify, and Cosign or Notation says with what. See
// docs/image-yaml.md for the mapping.
type Trust struct {
	// Org lists organisations ("linuxkit", "registry.example.com/team"):
	// every image in them must verify.
	Org []string `yaml:"org,omitempty"`
	// Image lists repositories ("linuxkit/kernel") or references
	// ("linuxkit/kernel:6.6.71") that must verify.
	Image []string `yaml:"image,omitempty"`
	// Cosign lists cosign public keys and the images each one verifies
	// (an lkpkg extension).
	Cosign []TrustCosign `yaml:"cosign,omitempty"`
	// Notation is a notation trust policy and trust store (an lkpkg
	// extension).
	Notation *TrustNotation `yaml:"notation,omitempty"`
}

// TrustCosign binds a cosign public key to the images it verifies.
type TrustCosign struct {
	// Match is a repository ("docker.io/linuxkit/init") or a repository
	// prefix ending in "/*" ("registry.example.com/team/*").
	Match string `yaml:"match"`
	// Key is the public key (a path, or a cosign key reference such as
	// "k8s://ns/secret").
	Key string `yaml:"key"`
}

// TrustNotation names a notation trust policy and trust store directory.
type TrustNotation struct {
	Policy     string `yaml:"policy"`
	TrustStore string `yaml:"truststore"`
}

// ImageYAMLError is a problem in an image YAML file, located by file,
// line and field path (such as `services[1].capabilities`).
type ImageYAMLError = yamlerr.Error

// LoadImage reads and parses an image YAML file.
func LoadImage(path string) (*Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseImage(path, data)
}

// ParseImage decodes and validates image YAML. Decoding is strict: an
// unknown field, a value of the wrong type or an invalid value is an
// *ImageYAMLError naming file:line and the field. file is used in error
// messages only.
func ParseImage(file string, data []byte) (*Image, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlSyntaxError(file, err)
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	if doc.Kind == 0 || (doc.Kind == yaml.ScalarNode && doc.Tag == "!!null") {
		return nil, &ImageYAMLError{File: file, Msg: "file is empty (expected kernel:, init:, onboot:, services:, files: ...)"}
	}
	w := &yamlWalker{file: file, lines: map[string]int{}}
	if err := w.walk(doc, reflect.TypeOf(Image{}), ""); err != nil {
		return nil, err
	}
	var img Image
	if err := doc.Decode(&img); err != nil {
		// The walk checks every key and scalar, so this is a backstop.
		return nil, yamlSyntaxError(file, err)
	}
	if err := img.validate(w); err != nil {
		return nil, err
	}
	return &img, nil
}

// Refs lists every image reference the file uses (kernel, init, onboot,
// onshutdown, services, volumes) as written, in file order. References
// that name the same image ("linuxkit/init:v1" and
// "docker.io/linuxkit/init:v1") are listed once, as first written.
func (i *Image) Refs() []string {
	var refs []string
	seen := map[string]bool{}
	add := func(r string) {
		if r == "" {
			return
		}
		key := r
		if p, err := name.ParseReference(r); err == nil {
			key = p.Name()
		}
		if !seen[key] {
			seen[key] = true
			refs = append(refs, r)
		}
	}
	add(i.Kernel.Image)
	for _, r := range i.Init {
		add(r)
	}
	for _, list := range [][]ImageEntry{i.Onboot, i.Onshutdown, i.Services} {
		for _, e := range list {
			add(e.Image)
		}
	}
	for _, v := range i.Volumes {
		add(v.Image)
	}
	return refs
}

// Requires reports whether ref must carry a valid signature: it is in a
// trust.org organisation, is a trust.image entry, or matches a
// trust.cosign entry.
func (t *Trust) Requires(ref string) bool {
	r, err := name.ParseReference(ref)
	if err != nil {
		return false
	}
	repo := r.Context().Name()
	for _, org := range t.Org {
		if p, err := name.NewRepository(org + "/x"); err == nil {
			if strings.HasPrefix(repo, strings.TrimSuffix(p.Name(), "x")) {
				return true
			}
		}
	}
	for _, im := range t.Image {
		p, err := name.ParseReference(im)
		if err != nil || p.Context().Name() != repo {
			continue
		}
		if strings.Contains(yamlRepoTail(im), ":") || strings.Contains(im, "@") {
			if p.Name() == r.Name() || yamlTagOf(im) != "" && yamlTagOf(im) == yamlTagOf(ref) {
				return true
			}
			continue
		}
		return true
	}
	return len(t.CosignKeys(ref)) > 0
}

// CosignKeys lists the keys of the trust.cosign entries whose match
// covers ref, in file order.
func (t *Trust) CosignKeys(ref string) []string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil
	}
	repo := r.Context().Name()
	var keys []string
	for _, c := range t.Cosign {
		if yamlMatch(c.Match, repo) {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

// yamlMatch reports whether the repository repo (normalised, as
// name.Repository.Name gives it) matches a trust.cosign pattern.
func yamlMatch(pattern, repo string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/*"); ok {
		p, err := name.NewRepository(prefix + "/x")
		if err != nil {
			return false
		}
		return strings.HasPrefix(repo, strings.TrimSuffix(p.Name(), "x"))
	}
	p, err := name.NewRepository(pattern)
	return err == nil && p.Name() == repo
}

// yamlRepoTail is the last path component of a reference (where a tag's
// ":" is, as opposed to a registry port's).
func yamlRepoTail(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	return ref[strings.LastIndex(ref, "/")+1:]
}

// yamlSyntaxError rewrites yaml.v3's "yaml: line N: msg" into "file:N: msg".
func yamlSyntaxError(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, 0, len(te.Errors))
		for _, m := range te.Errors {
			msgs = append(msgs, file+":"+strings.TrimPrefix(m, "line "))
		}
		return fmt.Errorf("%s", strings.Join(msgs, "\n"))
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.HasPrefix(msg, "line ") {
		return fmt.Errorf("%s:%s", file, strings.TrimPrefix(msg, "line "))
	}
	return fmt.Errorf("%s: invalid YAML: %s", file, msg)
}

// yamlWalker checks a YAML tree against a Go type before decoding, so
// every error names its field path and line: unknown keys, keys set
// twice, and values of the wrong kind. It records the line of every path
// for later validation errors.
//
// Types without yaml tags (the OCI runtime-spec structs inside mounts,
// resources, uidMappings, gidMappings) accept their JSON names in any
// case, as LinuxKit documents them (`containerID`, `hugepageLimits`);
// the walk rewrites such keys to the lower-case names yaml.v3 decodes.
type yamlWalker struct {
	file  string
	lines map[string]int
}

type yamlField struct {
	key string
	typ reflect.Type
}

// errorf reports a problem with node n at field path field, on the line
// of the field's key when there is one.
func (w *yamlWalker) errorf(n *yaml.Node, field, format string, args ...any) error {
	line := n.Line
	if l, ok := w.lines[field]; ok && field != "" {
		line = l
	}
	return &ImageYAMLError{File: w.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (w *yamlWalker) walk(n *yaml.Node, t reflect.Type, p string) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if p != "" {
		if _, ok := w.lines[p]; !ok {
			w.lines[p] = n.Line
		}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return w.errorf(n, p, "expected a mapping, got %s", yamlDescribe(n))
		}
		return w.walkStruct(n, t, p, map[string]int{})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return w.errorf(n, p, "expected a list, got %s", yamlDescribe(n))
		}
		for i, item := range n.Content {
			if err := w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", p, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return w.errorf(n, p, "expected a mapping, got %s", yamlDescribe(n))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return w.errorf(k, p, "keys must be strings, got %s", yamlDescribe(k))
			}
			if err := w.walk(n.Content[i+1], t.Elem(), p+"."+k.Value); err != nil {
				return err
			}
		}
		return nil
	default:
		if n.Kind != yaml.ScalarNode {
			return w.errorf(n, p, "expected %s, got %s", yamlKindName(t), yamlDescribe(n))
		}
		v := reflect.New(t)
		// yaml.v3 would also take yes/no/on/off as booleans; LinuxKit's
		// schema does not.
		if err := n.Decode(v.Interface()); err != nil || (t.Kind() == reflect.Bool && n.ShortTag() != "!!bool") {
			return w.errorf(n, p, "expected %s, got %q", yamlKindName(t), n.Value)
		}
		return nil
	}
}

func (w *yamlWalker) walkStruct(n *yaml.Node, t reflect.Type, p string, seen map[string]int) error {
	fields, aliases := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
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
				// Keys written here override merged ones: not duplicates.
				if err := w.walkStruct(m, t, p, map[string]int{}); err != nil {
					return err
				}
			}
			continue
		}
		f, ok := fields[k.Value]
		if !ok {
			if canon, found := aliases[strings.ToLower(k.Value)]; found {
				k.Value = canon
				f, ok = fields[canon], true
			}
		}
		fp := yamlJoin(p, k.Value)
		if !ok {
			if why, known := yamlUnsupported[k.Value]; known && t == reflect.TypeOf(ImageEntry{}) {
				return w.errorf(k, fp, "%s", why)
			}
			return w.errorf(k, fp, "unknown field%s", yamlSuggest(k.Value, fields))
		}
		if first, dup := seen[k.Value]; dup {
			return &ImageYAMLError{File: w.file, Line: k.Line, Field: fp, Msg: fmt.Sprintf("set twice (first at line %d)", first)}
		}
		seen[k.Value] = k.Line
		w.lines[fp] = k.Line
		if err := w.walk(v, f.typ, fp); err != nil {
			return err
		}
	}
	return nil
}

// yamlUnsupported are LinuxKit container options that runconfig.Config
// does not have yet: rejected with a clear message rather than ignored.
var yamlUnsupported = map[string]string{
	"capabilities.add": "is a LinuxKit option lkpkg does not support yet (list every capability in capabilities: instead)",
	"devices":          "is a LinuxKit option lkpkg does not support yet (use resources.devices and binds for device nodes)",
}

// yamlFields lists the keys yaml.v3 decodes into struct t (following
// `,inline`), and for fields without a yaml tag, their JSON names in
// lower case mapped to the yaml.v3 key.
func yamlFields(t reflect.Type) (map[string]yamlField, map[string]string) {
	fields := map[string]yamlField{}
	aliases := map[string]string{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			tag, hasTag := sf.Tag.Lookup("yaml")
			if tag == "-" {
				continue
			}
			key, flags, _ := strings.Cut(tag, ",")
			if strings.Contains(","+flags+",", ",inline,") {
				add(sf.Type)
				continue
			}
			if key == "" {
				key = strings.ToLower(sf.Name)
			}
			fields[key] = yamlField{key: key, typ: sf.Type}
			if !hasTag {
				if j, _, _ := strings.Cut(sf.Tag.Get("json"), ","); j != "" && j != "-" {
					aliases[strings.ToLower(j)] = key
				}
			}
		}
	}
	add(t)
	return fields, aliases
}

// yamlSuggest names the closest valid key, or lists them when there are few.
func yamlSuggest(key string, fields map[string]yamlField) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, k := range names {
		if d := yamlDistance(strings.ToLower(key), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(names) <= 12 {
		return " (expected one of: " + strings.Join(names, ", ") + ")"
	}
	return " (see docs/image-yaml.md for the valid fields)"
}

func yamlDistance(a, b string) int {
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

func yamlJoin(p, key string) string {
	if p == "" {
		return key
	}
	return p + "." + key
}

func yamlDescribe(n *yaml.Node) string {
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

func yamlKindName(t reflect.Type) string {
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
	}
	return t.String()
}

var (
	// yamlNameRE is a container name: containerd's identifier rule (it
	// becomes the container ID and a directory name).
	yamlNameRE = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)
	// yamlVolumeRE is LinuxKit's volume name rule.
	yamlVolumeRE   = regexp.MustCompile(`^[a-z0-9_-]+$`)
	yamlModeRE     = regexp.MustCompile(`^[0-7]{1,5}$`)
	yamlEnvRE      = regexp.MustCompile(`^[^=]+=`)
	yamlPlatformRE = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$`)
)

// yamlCaps are the capability names LinuxKit accepts.
var yamlCaps = map[string]bool{}

func init() {
	for _, c := range strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
		SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
		SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE
		SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN
		SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE`) {
		yamlCaps["CAP_"+c] = true
	}
}

var yamlRlimits = map[string]bool{}

func init() {
	for _, r := range strings.Fields("CPU FSIZE DATA STACK CORE RSS NPROC NOFILE MEMLOCK AS LOCKS SIGPENDING MSGQUEUE NICE RTPRIO RTTIME") {
		yamlRlimits["RLIMIT_"+r] = true
	}
}

func (img *Image) validate(w *yamlWalker) error {
	fail := func(field, format string, args ...any) error {
		return &ImageYAMLError{File: w.file, Line: w.line(field), Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	checkRef := func(field, ref string) error {
		if ref == "" {
			return fail(field, "is required (an image reference such as linuxkit/init:<tag>)")
		}
		if _, err := name.ParseReference(ref); err != nil {
			return fail(field, "%q is not a valid image reference: %v", ref, err)
		}
		return nil
	}
	if img.Kernel.Image != "" {
		if err := checkRef("kernel.image", img.Kernel.Image); err != nil {
			return err
		}
	}
	for _, f := range []struct{ field, v string }{{"kernel.binary", img.Kernel.Binary}, {"kernel.tar", img.Kernel.Tar}, {"kernel.ucode", img.Kernel.UCode}} {
		if f.v != "" && yamlEscapes(f.v) {
			return fail(f.field, "%q must be a path inside the kernel image", f.v)
		}
	}
	for i, r := range img.Init {
		if err := checkRef(fmt.Sprintf("init[%d]", i), r); err != nil {
			return err
		}
	}

	vols := map[string]*Volume{}
	for i := range img.Volumes {
		v := &img.Volumes[i]
		p := fmt.Sprintf("volumes[%d]", i)
		if v.Name == "" {
			return fail(p+".name", "is required")
		}
		if !yamlVolumeRE.MatchString(v.Name) {
			return fail(p+".name", "%q is not a valid volume name (lower-case letters, digits, '_', '-')", v.Name)
		}
		if vols[v.Name] != nil {
			return fail(p+".name", "duplicate volume name %q", v.Name)
		}
		vols[v.Name] = v
		if v.Image != "" {
			if err := checkRef(p+".image", v.Image); err != nil {
				return err
			}
		}
		switch v.Format {
		case "", "oci", "filesystem":
		default:
			return fail(p+".format", "%q must be oci or filesystem", v.Format)
		}
		for j, pl := range v.Platforms {
			if !yamlPlatformRE.MatchString(pl) {
				return fail(fmt.Sprintf("%s.platforms[%d]", p, j), "%q is not a platform (expected OS/ARCH[/VARIANT], e.g. linux/arm64)", pl)
			}
		}
		if len(v.Platforms) > 0 && v.Image == "" {
			return fail(p+".platforms", "needs an image to take the platforms from")
		}
	}

	names := map[string]string{}
	for _, sec := range []struct {
		key  string
		list []ImageEntry
	}{{"onboot", img.Onboot}, {"onshutdown", img.Onshutdown}, {"services", img.Services}} {
		for i := range sec.list {
			e := &sec.list[i]
			p := fmt.Sprintf("%s[%d]", sec.key, i)
			if e.Name == "" {
				return fail(p+".name", "is required (the container name)")
			}
			if !yamlNameRE.MatchString(e.Name) || len(e.Name) > 76 {
				return fail(p+".name", "%q is not a valid container name (letters, digits and '.', '_', '-' between them; at most 76 characters)", e.Name)
			}
			if prev, dup := names[e.Name]; dup {
				return fail(p+".name", "duplicate name %q (also %s): names must be unique across onboot, onshutdown and services", e.Name, prev)
			}
			names[e.Name] = p
			if err := checkRef(p+".image", e.Image); err != nil {
				return err
			}
			if err := yamlCheckConfig(&e.Config, p, vols, fail); err != nil {
				return err
			}
		}
	}

	for i, f := range img.Files {
		if err := yamlCheckFile(f, fmt.Sprintf("files[%d]", i), fail); err != nil {
			return err
		}
	}
	return img.Trust.validate(fail)
}

// line finds the line of a field path, or of its nearest parent.
func (w *yamlWalker) line(p string) int {
	for p != "" {
		if l, ok := w.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

type yamlFail func(field, format string, args ...any) error

func yamlCheckFile(f File, p string, fail yamlFail) error {
	if f.Path == "" {
		return fail(p+".path", "is required")
	}
	if yamlEscapes(strings.TrimPrefix(f.Path, "/")) || path.Clean("/"+f.Path) == "/" {
		return fail(p+".path", "%q must name a path inside the root filesystem", f.Path)
	}
	var set []string
	if f.Contents != nil {
		set = append(set, "contents")
	}
	if f.Source != "" {
		set = append(set, "source")
	}
	if f.Metadata != "" {
		set = append(set, "metadata")
	}
	if f.Directory {
		set = append(set, "directory")
	}
	if f.Symlink != "" {
		set = append(set, "symlink")
	}
	switch len(set) {
	case 0:
		return fail(p, "file %q needs exactly one of contents, source, metadata, directory: true or symlink", f.Path)
	case 1:
	default:
		return fail(p+"."+set[1], "file %q sets both %s and %s: exactly one of contents, source, metadata, directory or symlink", f.Path, set[0], set[1])
	}
	if f.Metadata != "" && f.Metadata != "yaml" {
		return fail(p+".metadata", "%q is not supported (the only metadata format is yaml)", f.Metadata)
	}
	if f.Optional && f.Source == "" {
		return fail(p+".optional", "only applies to files with source")
	}
	if f.Mode != "" {
		m, err := strconv.ParseUint(f.Mode, 8, 32)
		if !yamlModeRE.MatchString(f.Mode) || err != nil || m > 0o7777 {
			return fail(p+".mode", "%q is not an octal file mode (e.g. \"0644\")", f.Mode)
		}
	}
	if err := yamlCheckID(p+".uid", f.UID, fail); err != nil {
		return err
	}
	return yamlCheckID(p+".gid", f.GID, fail)
}

// yamlCheckID accepts a non-negative number or a user/group name.
func yamlCheckID(field string, v any, fail yamlFail) error {
	switch id := v.(type) {
	case nil:
		return nil
	case int:
		if id < 0 || int64(id) > 1<<32-1 {
			return fail(field, "%d is not a valid id", id)
		}
		return nil
	case string:
		if id == "" {
			return fail(field, "is empty (a number or a name)")
		}
		return nil
	}
	return fail(field, "must be a number or a name, got %v", v)
}

func yamlCheckConfig(c *runconfig.Config, p string, vols map[string]*Volume, fail yamlFail) error {
	for _, caps := range []struct {
		key  string
		list *[]string
	}{{"capabilities", c.Capabilities}, {"ambient", c.Ambient}} {
		if caps.list == nil {
			continue
		}
		l := *caps.list
		if len(l) == 1 && (strings.EqualFold(l[0], "all") || strings.EqualFold(l[0], "none")) {
			continue
		}
		for j, cp := range l {
			if !yamlCaps[cp] {
				msg := "%q is not a capability (CAP_NET_ADMIN, ...; or a single all or none)"
				if strings.EqualFold(cp, "all") || strings.EqualFold(cp, "none") {
					msg = "%q must be the only entry"
				}
				return fail(fmt.Sprintf("%s.%s[%d]", p, caps.key, j), msg, cp)
			}
		}
	}
	checkBinds := func(key string, list *[]string) error {
		if list == nil {
			return nil
		}
		for j, b := range *list {
			f := fmt.Sprintf("%s.%s[%d]", p, key, j)
			parts := strings.Split(b, ":")
			if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") {
				return fail(f, "%q must be SOURCE:/DESTINATION[:OPTIONS]", b)
			}
			if strings.HasPrefix(parts[0], "/") {
				continue
			}
			v := vols[parts[0]]
			if v == nil {
				return fail(f, "%q: source %q is neither an absolute path nor a volume in volumes:", b, parts[0])
			}
			if v.ReadOnly && (len(parts) < 3 || !volumeReadOnlyOK(strings.Split(parts[2], ","))) {
				return fail(f, "%q: volume %q is read-only, but the bind would mount it read-write (give it the ro option, e.g. %s:%s:ro)", b, v.Name, parts[0], parts[1])
			}
		}
		return nil
	}
	if err := checkBinds("binds", c.Binds); err != nil {
		return err
	}
	if err := checkBinds("binds.add", c.BindsAdd); err != nil {
		return err
	}
	if c.Mounts != nil {
		for j, m := range *c.Mounts {
			f := fmt.Sprintf("%s.mounts[%d]", p, j)
			if m.Destination != "" && !strings.HasPrefix(m.Destination, "/") {
				return fail(f+".destination", "%q must be an absolute path", m.Destination)
			}
			if m.Type == "bind" && !strings.HasPrefix(m.Source, "/") {
				if m.Source == "" {
					return fail(f+".source", "is required for a bind mount (an absolute path or a volume in volumes:)")
				}
				v := vols[m.Source]
				if v == nil {
					return fail(f+".source", "%q is neither an absolute path nor a volume in volumes:", m.Source)
				}
				if v.ReadOnly && !volumeReadOnlyOK(m.Options) {
					return fail(f+".options", "volume %q is read-only, but the mount would mount it read-write (add ro to its options)", v.Name)
				}
			}
		}
	}
	if c.Tmpfs != nil {
		for j, t := range *c.Tmpfs {
			parts := strings.Split(t, ":")
			if len(parts) > 2 || !strings.HasPrefix(parts[0], "/") {
				return fail(fmt.Sprintf("%s.tmpfs[%d]", p, j), "%q must be /DESTINATION[:OPTIONS]", t)
			}
		}
	}
	if c.Env != nil {
		for j, e := range *c.Env {
			if !yamlEnvRE.MatchString(e) {
				return fail(fmt.Sprintf("%s.env[%d]", p, j), "%q must be NAME=VALUE", e)
			}
		}
	}
	if c.Cwd != "" && !strings.HasPrefix(c.Cwd, "/") {
		return fail(p+".cwd", "%q must be an absolute path", c.Cwd)
	}
	for _, ns := range []struct{ key, v string }{{"net", c.Net}, {"pid", c.Pid}, {"ipc", c.Ipc}, {"uts", c.Uts}, {"userns", c.Userns}} {
		switch {
		case ns.v == "", ns.v == "host", ns.v == "root", ns.v == "new", strings.HasPrefix(ns.v, "/"):
		case ns.v == "none" && ns.key == "net":
		default:
			return fail(p+"."+ns.key, "%q must be host, root, new%s or a namespace path such as /run/netns/foo", ns.v, map[bool]string{true: ", none"}[ns.key == "net"])
		}
	}
	if c.Rlimits != nil {
		for j, r := range *c.Rlimits {
			if !yamlRlimitOK(r) {
				return fail(fmt.Sprintf("%s.rlimits[%d]", p, j), "%q must be NAME,SOFT,HARD (e.g. nofile,1024,4096; unlimited allowed)", r)
			}
		}
	}
	if c.OOMScoreAdj != nil && (*c.OOMScoreAdj < -1000 || *c.OOMScoreAdj > 1000) {
		return fail(p+".oomScoreAdj", "%d is outside -1000..1000", *c.OOMScoreAdj)
	}
	if c.RootfsPropagation != nil {
		switch *c.RootfsPropagation {
		case "", "shared", "slave", "private", "rshared", "rslave", "rprivate", "unbindable", "runbindable":
		default:
			return fail(p+".rootfsPropagation", "%q must be one of shared, slave, private, unbindable (or r-prefixed)", *c.RootfsPropagation)
		}
	}
	if c.UID != nil {
		if err := yamlCheckID(p+".uid", *c.UID, fail); err != nil {
			return err
		}
	}
	if c.GID != nil {
		if err := yamlCheckID(p+".gid", *c.GID, fail); err != nil {
			return err
		}
	}
	if c.AdditionalGids != nil {
		for j, g := range *c.AdditionalGids {
			if err := yamlCheckID(fmt.Sprintf("%s.additionalGids[%d]", p, j), g, fail); err != nil {
				return err
			}
		}
	}
	return nil
}

func yamlRlimitOK(s string) bool {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return false
	}
	n := strings.ToUpper(strings.TrimSpace(parts[0]))
	if !strings.HasPrefix(n, "RLIMIT_") {
		n = "RLIMIT_" + n
	}
	if !yamlRlimits[n] {
		return false
	}
	for _, v := range parts[1:] {
		v = strings.TrimSpace(v)
		if strings.EqualFold(v, "unlimited") {
			continue
		}
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			return false
		}
	}
	return true
}

func (t *Trust) validate(fail yamlFail) error {
	for i, org := range t.Org {
		if !yamlRepoPrefixOK(org) {
			return fail(fmt.Sprintf("trust.org[%d]", i), "%q is not an organisation (e.g. linuxkit or registry.example.com/team)", org)
		}
	}
	for i, im := range t.Image {
		if _, err := name.ParseReference(im); err != nil || strings.Contains(im, "*") {
			return fail(fmt.Sprintf("trust.image[%d]", i), "%q is not an image name (e.g. linuxkit/kernel or linuxkit/kernel:6.6.71)", im)
		}
	}
	for i, c := range t.Cosign {
		p := fmt.Sprintf("trust.cosign[%d]", i)
		if c.Match == "" {
			return fail(p+".match", "is required (a repository, or a prefix ending in /* such as registry.example.com/team/*)")
		}
		prefix, wild := strings.CutSuffix(c.Match, "/*")
		ok := yamlRepoPrefixOK(prefix)
		if !wild && ok {
			_, err := name.NewRepository(prefix)
			ok = err == nil
		}
		if !ok {
			return fail(p+".match", "%q is not a pattern: expected a repository (docker.io/linuxkit/init) or a prefix ending in /* (registry.example.com/team/*)", c.Match)
		}
		if c.Key == "" {
			return fail(p+".key", "is required (a cosign public key)")
		}
	}
	if n := t.Notation; n != nil {
		if n.Policy == "" {
			return fail("trust.notation.policy", "is required (a notation trustpolicy.json)")
		}
		if n.TrustStore == "" {
			return fail("trust.notation.truststore", "is required (a notation trust store directory)")
		}
	}
	return nil
}

// yamlRepoPrefixOK reports whether p is a registry and/or repository path
// prefix: no tag, digest or wildcard; a ":" only as a registry port
// followed by a path.
func yamlRepoPrefixOK(p string) bool {
	if p == "" || strings.ContainsAny(p, "*@") {
		return false
	}
	host, rest, slash := strings.Cut(p, "/")
	if strings.Contains(rest, ":") || strings.Count(host, ":") > 1 || (!slash && strings.Contains(host, ":")) {
		return false // "linuxkit:tag" is a tag; only "host:port/..." may have a ":"
	}
	_, err := name.NewRepository(p + "/x")
	return err == nil
}

func yamlEscapes(p string) bool {
	c := path.Clean(p)
	return c == ".." || strings.HasPrefix(c, "../") || strings.HasPrefix(c, "/")
}

// yamlTagOf is the tag written in ref ("" if none), also for tag@digest
// references, whose Name() drops the tag.
func yamlTagOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	t, err := name.NewTag(ref)
	if err != nil || !strings.Contains(yamlRepoTail(ref), ":") {
		return ""
	}
	return t.Context().Name() + ":" + t.TagStr()
}
