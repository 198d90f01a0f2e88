package assemble

import (
	"path"
	"reflect"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/lkpkg/lkpkg/internal/strictyaml"
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
type ImageYAMLError = strictyaml.Error

// imageYAML is how image YAML differs from lkpkg's other YAML files: it
// follows LinuxKit's schema (booleans are only true or false; the OCI
// runtime-spec structs take their JSON names) and names the container
// options LinuxKit has and lkpkg does not yet.
var imageYAML = strictyaml.Options{
	Empty:       "file is empty (expected kernel:, init:, onboot:, services:, files: ...)",
	StrictBools: true,
	JSONNames:   true,
	Unsupported: map[reflect.Type]map[string]string{reflect.TypeOf(ImageEntry{}): {
		"capabilities.add": "is a LinuxKit option lkpkg does not support yet (list every capability in capabilities: instead)",
		"devices":          "is a LinuxKit option lkpkg does not support yet (use resources.devices and binds for device nodes)",
	}},
	FieldsDoc: "docs/image-yaml.md",
}

// LoadImage reads and parses an image YAML file.
func LoadImage(path string) (*Image, error) {
	data, err := strictyaml.ReadFile(path)
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
	var img Image
	if err := strictyaml.Decode(file, data, &img, imageYAML); err != nil {
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
		key := refKey(r)
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
		if strings.Contains(refLastComponent(im), ":") || strings.Contains(im, "@") {
			if p.Name() == r.Name() || taggedName(im) != "" && taggedName(im) == taggedName(ref) {
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
		if cosignPatternMatches(c.Match, repo) {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

// cosignPatternMatches reports whether the repository repo (normalised, as
// name.Repository.Name gives it) matches a trust.cosign pattern.
func cosignPatternMatches(pattern, repo string) bool {
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

// refLastComponent is the last path component of a reference (where a tag's
// ":" is, as opposed to a registry port's).
func refLastComponent(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	return ref[strings.LastIndex(ref, "/")+1:]
}

// repoPrefixOK reports whether p is a registry and/or repository path
// prefix: no tag, digest or wildcard; a ":" only as a registry port
// followed by a path.
func repoPrefixOK(p string) bool {
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

func escapesRoot(p string) bool {
	c := path.Clean(p)
	return c == ".." || strings.HasPrefix(c, "../") || strings.HasPrefix(c, "/")
}

// taggedName is the tag written in ref ("" if none), also for tag@digest
// references, whose Name() drops the tag.
func taggedName(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	t, err := name.NewTag(ref)
	if err != nil || !strings.Contains(refLastComponent(ref), ":") {
		return ""
	}
	return t.Context().Name() + ":" + t.TagStr()
}
