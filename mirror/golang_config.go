package mirror

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/module"
)

// GoConfig is mirror.yml's go: section: the official Go toolchain and Go
// module sources, fetched through a Go module proxy and checked against
// the Go checksum database; the lock pins their go.sum hashes.
type GoConfig struct {
	// Proxy is the module proxy (default https://proxy.golang.org).
	Proxy string `yaml:"proxy"`
	// Arches are the image's GOARCHes (one image per arch).
	Arches []string `yaml:"arches"`
	// Toolchain is a Go release (go1.26.8) installed at GOROOT
	// (/usr/local/go) for each arch; "" for none.
	Toolchain string `yaml:"toolchain"`
	// Modules are path@version sources; each one's module closure is kept
	// as a GOPROXY tree at RepoDir/goproxy, so `go build` works offline.
	Modules []string `yaml:"modules"`
}

// DefaultGoProxy is the module proxy used when go.proxy is empty.
const DefaultGoProxy = "https://proxy.golang.org"

// GOROOT is where the toolchain goes in the image.
const GOROOT = "/usr/local/go"

var goReleaseRE = regexp.MustCompile(`^go1\.[0-9]+(\.[0-9]+)?((rc|beta)[0-9]+)?$`)

var goArches = []string{"amd64", "arm64", "riscv64", "386", "arm", "s390x", "ppc64le"}

func (g *GoConfig) check(fail func(field, format string, args ...any) error) error {
	if g.Proxy != "" {
		if err := checkURL(g.Proxy); err != nil {
			return fail("go.proxy", "%v", err)
		}
	}
	if len(g.Arches) == 0 {
		return fail("go.arches", "at least one GOARCH is required (amd64, arm64, ...)")
	}
	for i, a := range g.Arches {
		if !slices.Contains(goArches, a) {
			return fail(fmt.Sprintf("go.arches[%d]", i), "unknown GOARCH %q (expected one of %s)", a, strings.Join(goArches, ", "))
		}
	}
	if g.Toolchain == "" && len(g.Modules) == 0 {
		return fail("go", "give a toolchain (e.g. go1.26.8) and/or modules (path@version)")
	}
	if g.Toolchain != "" && !goReleaseRE.MatchString(g.Toolchain) {
		return fail("go.toolchain", "%q: want a Go release such as go1.26.8", g.Toolchain)
	}
	for i, m := range g.Modules {
		if _, _, err := splitModule(m); err != nil {
			return fail(fmt.Sprintf("go.modules[%d]", i), "%v", err)
		}
	}
	return nil
}

// proxy is the configured proxy or the default.
func (g *GoConfig) proxy() string {
	if g.Proxy == "" {
		return DefaultGoProxy
	}
	return g.Proxy
}

// splitModule parses path@version and checks both.
func splitModule(s string) (string, string, error) {
	p, v, ok := strings.Cut(s, "@")
	if !ok {
		return "", "", fmt.Errorf("%q: want module@version", s)
	}
	if err := module.Check(p, v); err != nil {
		return "", "", fmt.Errorf("%q: %v", s, err)
	}
	return p, v, nil
}
