package mirror

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/lkpkg/lkpkg/internal/strictyaml"
)

// Config is mirror.yml.
type Config struct {
	// Image and Org name the mirror image: org/image:tag.
	Image string `yaml:"image"`
	Org   string `yaml:"org"`
	// Upstream is the base URL repositories are relative to
	// (http://, https:// or file://). Options.APKUpstream replaces it
	// without changing the lock.
	Upstream string `yaml:"upstream"`
	// Repositories are paths below Upstream, e.g. v3.19/main.
	Repositories []string `yaml:"repositories"`
	// Keys is a directory of trusted upstream public keys (*.rsa.pub),
	// relative to mirror.yml.
	Keys string `yaml:"keys"`
	// Arches are apk arch names (x86_64, aarch64, riscv64).
	Arches []string `yaml:"arches"`
	// Packages are the dependency atoms wanted on every arch; Extra adds
	// per-arch ones.
	Packages []string            `yaml:"packages"`
	Extra    map[string][]string `yaml:"extra"`
	// Rootfs maps an arch to the base root filesystem tarball the mirror
	// image starts from, a path below Upstream (e.g.
	// v3.19/releases/x86_64/alpine-minirootfs-3.19.4-x86_64.tar.gz); the
	// lock pins its SHA-256 like a package's checksum.
	Rootfs map[string]string `yaml:"rootfs"`
	// SigningKey is the mirror's public key (relative to mirror.yml),
	// made by `lkpkg mirror keygen` and committed; the private key is
	// given at build time.
	SigningKey string `yaml:"signing-key"`
	// SourceDateEpoch clamps every timestamp of the mirror image.
	SourceDateEpoch *int64 `yaml:"source-date-epoch"`

	// Debian pins packages from signed Debian archives (see DebianConfig).
	Debian *DebianConfig `yaml:"debian"`
	// Go pins Go toolchains and module sources (see GoConfig).
	Go *GoConfig `yaml:"go"`

	dir, file string
}

// DefaultSourceDateEpoch matches pkgbuild's default (2024-01-01).
const DefaultSourceDateEpoch int64 = 1704067200

var apkArches = map[string]string{"x86_64": "amd64", "aarch64": "arm64", "riscv64": "riscv64", "armv7": "arm", "x86": "386", "s390x": "s390x", "ppc64le": "ppc64le"}

// GOARCH returns the Go/OCI architecture name for an apk arch.
func GOARCH(apkArch string) string { return apkArches[apkArch] }

var nameRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// mirrorYAML: mirror.yml keeps yaml.v3's scalar rules.
var mirrorYAML = strictyaml.Options{Empty: "file is empty"}

// LoadConfig reads and validates mirror.yml.
func LoadConfig(file string) (*Config, error) {
	data, err := strictyaml.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseConfig(file, data)
}

// ParseConfig decodes mirror.yml bytes; file is used for messages and to
// resolve relative paths.
func ParseConfig(file string, data []byte) (*Config, error) {
	var c Config
	loc, err := strictyaml.DecodeLocate(file, data, &c, mirrorYAML)
	if err != nil {
		return nil, err
	}
	c.file = file
	c.dir = filepath.Dir(file)
	fail := loc.Errorf
	if c.Image == "" || !nameRE.MatchString(c.Image) {
		return nil, fail("image", "%q: a lower-case image name is required", c.Image)
	}
	if !c.HasAlpine() && c.Debian == nil && c.Go == nil {
		return nil, fail("", "nothing to mirror: give Alpine repositories (upstream, repositories, ...), a debian: section or a go: section")
	}
	if c.HasAlpine() {
		if err := c.checkAlpine(fail); err != nil {
			return nil, err
		}
	}
	if c.Debian != nil {
		if err := c.Debian.check(fail); err != nil {
			return nil, err
		}
		if c.Debian.Installs() && len(c.Rootfs) > 0 {
			return nil, fail("debian", "install: true makes the root filesystem from Debian packages; it cannot be combined with an Alpine rootfs")
		}
	}
	if c.Go != nil {
		if err := c.Go.check(fail); err != nil {
			return nil, err
		}
	}
	if _, err := c.OCIArches(); err != nil {
		return nil, fail("", "%v", err)
	}
	return &c, nil
}

// HasAlpine reports whether mirror.yml names Alpine repositories.
func (c *Config) HasAlpine() bool {
	return c.Upstream != "" || len(c.Repositories) > 0 || len(c.Arches) > 0
}

func (c *Config) checkAlpine(fail func(field, format string, args ...any) error) error {
	switch {
	case c.Upstream == "":
		return fail("upstream", "is required (e.g. https://dl-cdn.alpinelinux.org/alpine)")
	case len(c.Repositories) == 0:
		return fail("repositories", "at least one is required (e.g. v3.19/main)")
	case c.Keys == "":
		return fail("keys", "a directory of trusted upstream keys is required")
	case len(c.Arches) == 0:
		return fail("arches", "at least one apk arch is required (x86_64, aarch64, ...)")
	case len(c.Packages) == 0:
		return fail("packages", "at least one package is required")
	case c.SigningKey == "":
		return fail("signing-key", "the mirror's public key is required (make one with `lkpkg mirror keygen`)")
	}
	if err := checkURL(c.Upstream); err != nil {
		return fail("upstream", "%v", err)
	}
	for i, a := range c.Arches {
		if apkArches[a] == "" {
			return fail(fmt.Sprintf("arches[%d]", i), "unknown apk arch %q (expected one of x86_64, aarch64, riscv64, armv7, x86, s390x, ppc64le)", a)
		}
	}
	for a := range c.Extra {
		if !slices.Contains(c.Arches, a) {
			return fail("extra."+a, "arch %q is not in arches", a)
		}
	}
	for a := range c.Rootfs {
		if !slices.Contains(c.Arches, a) {
			return fail("rootfs."+a, "arch %q is not in arches", a)
		}
	}
	for i, r := range c.Repositories {
		if strings.Contains(r, "..") || strings.HasPrefix(r, "/") || strings.Contains(r, "://") {
			return fail(fmt.Sprintf("repositories[%d]", i), "%q must be a path below upstream, e.g. v3.19/main", r)
		}
	}
	return nil
}

func checkURL(u string) error {
	for _, p := range []string{"http://", "https://", "file://"} {
		if strings.HasPrefix(u, p) {
			return nil
		}
	}
	return fmt.Errorf("%q must start with http://, https:// or file://", u)
}

// Path resolves a path of mirror.yml relative to its directory.
func (c *Config) Path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// File is mirror.yml's path.
func (c *Config) File() string { return c.file }

// Dir is the directory holding mirror.yml.
func (c *Config) Dir() string { return c.dir }

// World is what the lock resolves for arch: packages plus extras, sorted.
func (c *Config) World(arch string) []string {
	w := append(append([]string(nil), c.Packages...), c.Extra[arch]...)
	sort.Strings(w)
	return w
}

// Ref is org/image without tag.
func (c *Config) Repo() string {
	if c.Org == "" {
		return c.Image
	}
	return c.Org + "/" + c.Image
}

// Epoch is the timestamp clamp for the image.
func (c *Config) Epoch() int64 {
	if c.SourceDateEpoch != nil {
		return *c.SourceDateEpoch
	}
	return DefaultSourceDateEpoch
}

// OCIArches are the image's architectures (GOARCH names, sorted). Every
// section of mirror.yml that names arches must name the same ones: the
// image has one root filesystem per arch.
func (c *Config) OCIArches() ([]string, error) {
	var out []string
	var from string
	add := func(section string, arches []string) error {
		set := append([]string(nil), arches...) // nil when empty, as out's "unset"
		sort.Strings(set)
		if out == nil {
			out, from = set, section
			return nil
		}
		if strings.Join(out, ",") != strings.Join(set, ",") {
			return fmt.Errorf("%s names arches %v but %s names %v: every section must build the same arches", section, set, from, out)
		}
		return nil
	}
	for _, s := range c.Sources() {
		if err := add(s.arches()); err != nil {
			return nil, err
		}
	}
	return out, nil
}
