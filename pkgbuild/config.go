package pkgbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lkpkg/lkpkg/internal/strictyaml"
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
type ConfigError = strictyaml.Error

// buildYAML: build.yml keeps yaml.v3's scalar rules (LinuxKit reads it
// with a YAML 1.1 library, so `network: yes` is a boolean).
var buildYAML = strictyaml.Options{Empty: "file is empty; `image:` is required"}

// ParseBuildYML decodes and validates build.yml bytes. file is used in
// error messages only.
func ParseBuildYML(file string, data []byte) (*BuildYML, error) {
	var b BuildYML
	if err := strictyaml.Decode(file, data, &b, buildYAML); err != nil {
		return nil, err
	}
	return &b, nil
}

// Validate checks the values the schema alone cannot; loc names the line
// of each field in errors.
func (b *BuildYML) Validate(loc *strictyaml.Locator) error {
	fail := loc.Errorf
	if b.Image == "" {
		return fail("image", "is required (the image name, e.g. `image: dhcpcd`)")
	}
	if !imageNameRE.MatchString(b.Image) {
		return fail("image", "%q is not a valid image name (lower-case letters, digits, '.', '_', '-')", b.Image)
	}
	if b.Org != "" && !orgRE.MatchString(b.Org) {
		return fail("org", "%q is not a valid registry organisation (e.g. `linuxkit` or `registry.example.com/team`)", b.Org)
	}
	if b.Tag != "" && !strings.Contains(b.Tag, "{{.Hash}}") {
		// A fixed tag would never be rebuilt once cached, whatever changed.
		return fail("tag", "%q must contain {{.Hash}} (e.g. `6.6-{{.Hash}}`): tags are content-addressed", b.Tag)
	}
	if b.Dockerfile != "" && (filepath.IsAbs(b.Dockerfile) || escapes(b.Dockerfile)) {
		return fail("dockerfile", "%q must be a path inside the package directory", b.Dockerfile)
	}
	seen := map[string]bool{}
	for i, a := range b.Arches {
		if !knownArches[a] {
			return fail(index("arches", i), "unknown arch %q (expected GOARCH names such as amd64, arm64, riscv64)", a)
		}
		if seen[a] {
			return fail(index("arches", i), "arch %q is listed twice", a)
		}
		seen[a] = true
	}
	for i, s := range b.ExtraSources {
		src, dst, ok := strings.Cut(s, ":")
		if !ok || src == "" || dst == "" {
			return fail(index("extra-sources", i), "%q must be SRC:DST (a path relative to the package, and where it goes in the build context)", s)
		}
		if filepath.IsAbs(dst) || escapes(dst) || filepath.Clean(dst) == "." {
			return fail(index("extra-sources", i), "destination %q must be a relative path inside the build context", dst)
		}
	}
	for i, a := range b.BuildArgs {
		if !buildArgRE.MatchString(a) {
			return fail(index("buildArgs", i), "%q must be NAME=VALUE", a)
		}
	}
	if err := b.Depends.DockerImages.validate(fail); err != nil {
		return err
	}
	if b.SourceDateEpoch != nil && *b.SourceDateEpoch < 0 {
		return fail("source-date-epoch", "must be a non-negative Unix time, got %d", *b.SourceDateEpoch)
	}
	return nil
}

func (d *DockerImages) validate(fail func(field, format string, args ...any) error) error {
	const p = "depends.docker-images"
	if d.FromFile != "" && len(d.List) > 0 {
		return fail(p, "`from-file` and `list` are mutually exclusive")
	}
	if d.Target != "" && d.TargetDir != "" {
		return fail(p, "`target` and `target-dir` are mutually exclusive")
	}
	if (d.FromFile != "" || len(d.List) > 0) && d.Target == "" && d.TargetDir == "" {
		return fail(p, "`target` or `target-dir` is required")
	}
	for _, f := range []struct{ key, path string }{{"target", d.Target}, {"target-dir", d.TargetDir}, {"from-file", d.FromFile}} {
		if f.path != "" && (filepath.IsAbs(f.path) || escapes(f.path)) {
			return fail(p+"."+f.key, "%q must be a path inside the package directory", f.path)
		}
	}
	return nil
}

// index is the field path of item i of list key.
func index(key string, i int) string { return fmt.Sprintf("%s[%d]", key, i) }

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func escapes(p string) bool {
	c := filepath.Clean(p)
	return c == ".." || strings.HasPrefix(c, "../")
}

// readBuildYML loads DIR/build.yml.
func readBuildYML(dir string) (*BuildYML, error) {
	file := filepath.Join(dir, "build.yml")
	data, err := strictyaml.ReadFile(file)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s: no build.yml: a package is a directory with build.yml and a Dockerfile", dir)
		}
		return nil, err
	}
	return ParseBuildYML(file, data)
}
