package mirror

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// DebianConfig is mirror.yml's debian: section: packages pinned from signed
// Debian archives. Their closure is locked per arch with each .deb's
// SHA-256; the mirror image keeps every .deb (RepoDir/debian) and, with
// install (the default), is also the root filesystem those packages make,
// composed natively (no dpkg, no maintainer scripts; see mirror/rootfs).
type DebianConfig struct {
	// Sources are the archives and suites to resolve against, in order of
	// preference.
	Sources []DebianSource `yaml:"sources"`
	// Keyring is a file or directory of trusted archive keys (OpenPGP,
	// binary or armored), relative to mirror.yml.
	Keyring string `yaml:"keyring"`
	// Arches are the image's dpkg arches (amd64, arm64, ...): one image per
	// arch, each resolved natively for it.
	Arches []string `yaml:"arches"`
	// Foreign are extra dpkg arches whose packages may be asked for as
	// name:arch (dpkg --add-architecture), e.g. libseccomp-dev:arm64.
	Foreign []string `yaml:"foreign"`
	// Packages are wanted on every arch; Extra adds per-arch ones.
	Packages []string            `yaml:"packages"`
	Extra    map[string][]string `yaml:"extra"`
	// Essential also installs the archive's Essential: yes packages (what
	// every Debian system assumes: sh, coreutils, ...).
	Essential bool `yaml:"essential"`
	// Install composes the closure into the image's root filesystem;
	// false keeps only the .deb files (e.g. kernel sources).
	Install *bool `yaml:"install"`
	// Env is added to the image config (e.g. CC for cross builds).
	Env []string `yaml:"env"`
}

// DebianSource is one archive suite.
type DebianSource struct {
	URL        string   `yaml:"url"`        // e.g. http://deb.debian.org/debian
	Suite      string   `yaml:"suite"`      // e.g. bookworm
	Components []string `yaml:"components"` // e.g. [main]
}

// Name identifies the source in the lock (URLs may be replaced by a copy).
func (s DebianSource) Name() string { return s.Suite }

// Installs reports whether the packages make the root filesystem.
func (d *DebianConfig) Installs() bool { return d.Install == nil || *d.Install }

var (
	debArchRE  = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	debSuiteRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	debArches  = map[string]string{"amd64": "amd64", "arm64": "arm64", "riscv64": "riscv64", "armhf": "arm", "i386": "386", "s390x": "s390x", "ppc64el": "ppc64le"}
)

// debGOARCH maps a dpkg arch to the OCI one.
func debGOARCH(a string) string { return debArches[a] }

func (d *DebianConfig) check(fail func(field, format string, args ...any) error) error {
	if len(d.Sources) == 0 {
		return fail("debian.sources", "at least one is required (url, suite, components)")
	}
	seen := map[string]bool{}
	for i, s := range d.Sources {
		f := fmt.Sprintf("debian.sources[%d]", i)
		if err := checkURL(s.URL); err != nil {
			return fail(f+".url", "%v", err)
		}
		if !debSuiteRE.MatchString(s.Suite) {
			return fail(f+".suite", "%q: a suite or codename is required (e.g. bookworm)", s.Suite)
		}
		if seen[s.Suite] {
			return fail(f+".suite", "%q is listed twice", s.Suite)
		}
		seen[s.Suite] = true
		if len(s.Components) == 0 {
			return fail(f+".components", "at least one is required (e.g. main)")
		}
		for j, c := range s.Components {
			if !debSuiteRE.MatchString(c) {
				return fail(fmt.Sprintf("%s.components[%d]", f, j), "%q is not a component name", c)
			}
		}
	}
	if d.Keyring == "" {
		return fail("debian.keyring", "a file or directory of trusted archive keys is required")
	}
	if len(d.Arches) == 0 {
		return fail("debian.arches", "at least one dpkg arch is required (amd64, arm64, ...)")
	}
	for i, a := range append(slices.Clone(d.Arches), d.Foreign...) {
		field := fmt.Sprintf("debian.arches[%d]", i)
		if i >= len(d.Arches) {
			field = fmt.Sprintf("debian.foreign[%d]", i-len(d.Arches))
		}
		if debArches[a] == "" || !debArchRE.MatchString(a) {
			return fail(field, "unknown dpkg arch %q (expected one of amd64, arm64, riscv64, armhf, i386, s390x, ppc64el)", a)
		}
	}
	if len(d.Packages) == 0 && len(d.Extra) == 0 && !d.Essential {
		return fail("debian.packages", "at least one package is required")
	}
	for a := range d.Extra {
		if !slices.Contains(d.Arches, a) {
			return fail("debian.extra."+a, "arch %q is not in debian.arches", a)
		}
	}
	for i, e := range d.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fail(fmt.Sprintf("debian.env[%d]", i), "%q: want NAME=value", e)
		}
	}
	return nil
}

// World is what the lock resolves for a dpkg arch, sorted.
func (d *DebianConfig) World(arch string) []string {
	w := append(slices.Clone(d.Packages), d.Extra[arch]...)
	sort.Strings(w)
	return w
}

// source finds a source by its lock name.
func (d *DebianConfig) source(name string) (DebianSource, bool) {
	for _, s := range d.Sources {
		if s.Name() == name {
			return s, true
		}
	}
	return DebianSource{}, false
}
