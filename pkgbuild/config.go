package pkgbuild

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lkpkg/lkpkg/internal/yamlerr"
	"github.com/lkpkg/lkpkg/runconfig"
)

// BuildYML is one package's build.yml, field for field as LinuxKit defines it.
type BuildYML struct {
	Image        string   `yaml:"image"`
	Org          string   `yaml:"org"`
	Tag          string   `yaml:"tag"`
	Dockerfile   string   `yaml:"dockerfile"`
	Arches       []string `yaml:"arches"`
	ExtraSources []string `yaml:"extra-sources"`
	GitRepo      string   `yaml:"gitrepo"`
	Network      bool     `yaml:"network"`
	DisableCache bool     `yaml:"disable-cache"`
	// DisableContentTrust is accepted for LinuxKit compatibility; lkpkg
	// signs with cosign/notation instead of Docker Content Trust.
	DisableContentTrust bool              `yaml:"disable-content-trust"`
	Config              *runconfig.Config `yaml:"config"`
	BuildArgs           []string          `yaml:"buildArgs"`
	Depends             Depends           `yaml:"depends"`
	// SourceDateEpoch is an lkpkg extension: the timestamp every output
	// file and the image config are clamped to.
	SourceDateEpoch *int64 `yaml:"source-date-epoch"`
}

// Depends lists prerequisites made available inside the build context.
type Depends struct {
	DockerImages DockerImages `yaml:"docker-images"`
}

// DockerImages are images saved as tar files into the build context.
// Each must be pinned by digest, as LinuxKit requires.
type DockerImages struct {
	TargetDir string   `yaml:"target-dir"`
	Target    string   `yaml:"target"`
	FromFile  string   `yaml:"from-file"`
	List      []string `yaml:"list"`
}

// DefaultArches is what a build.yml without `arches` builds for.
var DefaultArches = []string{"amd64", "arm64"}

// DefaultSourceDateEpoch (2024-01-01T00:00:00Z) is used when neither
// build.yml nor the caller sets one: a fixed value, so builds reproduce.
const DefaultSourceDateEpoch int64 = 1704067200

// knownArches are the GOARCH names lkpkg can build for.
var knownArches = map[string]bool{"amd64": true, "arm64": true, "riscv64": true, "s390x": true, "ppc64le": true, "386": true, "arm": true}

var (
	imageNameRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	orgRE       = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:(?::[0-9]+)?/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	buildArgRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
)

// ConfigError is a problem in a build.yml, located by file and line.
type ConfigError = yamlerr.Error

// ParseBuildYML decodes and validates build.yml bytes. file is used in
// error messages only.
func ParseBuildYML(file string, data []byte) (*BuildYML, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err)
	}
	var b BuildYML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&b); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ConfigError{File: file, Msg: "file is empty; `image:` is required"}
		}
		return nil, yamlError(file, err)
	}
	if err := b.validate(file, &root); err != nil {
		return nil, err
	}
	return &b, nil
}

// yamlError rewrites yaml.v3's "yaml: line N: msg" into "file:N: msg".
func yamlError(file string, err error) error {
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

// lineOf finds the line of a top-level key (and optional list index).
func lineOf(root *yaml.Node, key string, index int) int {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value != key {
			continue
		}
		v := doc.Content[i+1]
		if index >= 0 && v.Kind == yaml.SequenceNode && index < len(v.Content) {
			return v.Content[index].Line
		}
		return doc.Content[i].Line
	}
	return 0
}

func (b *BuildYML) validate(file string, root *yaml.Node) error {
	fail := func(field string, index int, format string, args ...any) error {
		return &ConfigError{File: file, Line: lineOf(root, field, index), Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if b.Image == "" {
		return &ConfigError{File: file, Field: "image", Msg: "is required (the image name, e.g. `image: dhcpcd`)"}
	}
	if !imageNameRE.MatchString(b.Image) {
		return fail("image", -1, "%q is not a valid image name (lower-case letters, digits, '.', '_', '-')", b.Image)
	}
	if b.Org != "" && !orgRE.MatchString(b.Org) {
		return fail("org", -1, "%q is not a valid registry organisation (e.g. `linuxkit` or `registry.example.com/team`)", b.Org)
	}
	if b.Tag != "" && !strings.Contains(b.Tag, "{{.Hash}}") {
		// A fixed tag would never be rebuilt once cached, whatever changed.
		return fail("tag", -1, "%q must contain {{.Hash}} (e.g. `6.6-{{.Hash}}`): tags are content-addressed", b.Tag)
	}
	if b.Dockerfile != "" && (filepath.IsAbs(b.Dockerfile) || escapes(b.Dockerfile)) {
		return fail("dockerfile", -1, "%q must be a path inside the package directory", b.Dockerfile)
	}
	seen := map[string]bool{}
	for i, a := range b.Arches {
		if !knownArches[a] {
			return fail("arches", i, "unknown arch %q (expected GOARCH names such as amd64, arm64, riscv64)", a)
		}
		if seen[a] {
			return fail("arches", i, "arch %q is listed twice", a)
		}
		seen[a] = true
	}
	for i, s := range b.ExtraSources {
		src, dst, ok := strings.Cut(s, ":")
		if !ok || src == "" || dst == "" {
			return fail("extra-sources", i, "%q must be SRC:DST (a path relative to the package, and where it goes in the build context)", s)
		}
		if filepath.IsAbs(dst) || escapes(dst) || filepath.Clean(dst) == "." {
			return fail("extra-sources", i, "destination %q must be a relative path inside the build context", dst)
		}
	}
	for i, a := range b.BuildArgs {
		if !buildArgRE.MatchString(a) {
			return fail("buildArgs", i, "%q must be NAME=VALUE", a)
		}
	}
	d := b.Depends.DockerImages
	if d.FromFile != "" && len(d.List) > 0 {
		return fail("depends", -1, "docker-images: `from-file` and `list` are mutually exclusive")
	}
	if d.Target != "" && d.TargetDir != "" {
		return fail("depends", -1, "docker-images: `target` and `target-dir` are mutually exclusive")
	}
	if (d.FromFile != "" || len(d.List) > 0) && d.Target == "" && d.TargetDir == "" {
		return fail("depends", -1, "docker-images: `target` or `target-dir` is required")
	}
	for _, p := range []string{d.Target, d.TargetDir, d.FromFile} {
		if p != "" && (filepath.IsAbs(p) || escapes(p)) {
			return fail("depends", -1, "docker-images: %q must be a path inside the package directory", p)
		}
	}
	if b.SourceDateEpoch != nil && *b.SourceDateEpoch < 0 {
		return fail("source-date-epoch", -1, "must be a non-negative Unix time, got %d", *b.SourceDateEpoch)
	}
	return nil
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func escapes(p string) bool {
	c := filepath.Clean(p)
	return c == ".." || strings.HasPrefix(c, "../")
}

// readBuildYML loads DIR/build.yml.
func readBuildYML(dir string) (*BuildYML, error) {
	file := filepath.Join(dir, "build.yml")
	data, err := os.ReadFile(file)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s: no build.yml: a package is a directory with build.yml and a Dockerfile", dir)
		}
		return nil, err
	}
	return ParseBuildYML(file, data)
}
