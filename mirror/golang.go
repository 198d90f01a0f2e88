package mirror

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/module"

	"github.com/lkpkg/lkpkg/mirror/gomod"
)

// GoLock is the go: part of mirror.lock: go.sum-style hashes, checked
// against the Go checksum database when locking and on every fetch.
type GoLock struct {
	// Toolchains pin golang.org/toolchain per GOARCH.
	Toolchains []LockedModule `yaml:"toolchains,omitempty"`
	// Modules is the closure of go.modules, sorted by path and version.
	Modules []LockedModule `yaml:"modules,omitempty"`
}

// LockedModule pins one module version.
type LockedModule struct {
	Arch     string `yaml:"arch,omitempty"` // toolchains only
	Path     string `yaml:"path"`
	Version  string `yaml:"version"`
	Sum      string `yaml:"sum,omitempty"` // h1: of the zip ("" = go.mod only)
	GoModSum string `yaml:"gomod-sum"`     // h1: of go.mod
}

func (m LockedModule) module() gomod.Module {
	return gomod.Module{Path: m.Path, Version: m.Version, Sum: m.Sum, GoModSum: m.GoModSum}
}

func lockedModule(m gomod.Module) LockedModule {
	return LockedModule{Path: m.Path, Version: m.Version, Sum: m.Sum, GoModSum: m.GoModSum}
}

func (m LockedModule) validate() error {
	if err := module.Check(m.Path, m.Version); err != nil {
		return err
	}
	if (m.Sum != "" && !strings.HasPrefix(m.Sum, "h1:")) || !strings.HasPrefix(m.GoModSum, "h1:") {
		return fmt.Errorf("%s@%s: sums must be h1: hashes", m.Path, m.Version)
	}
	return nil
}

func goClient(c *Config, opts Options) (*gomod.Client, error) {
	if opts.GoDownloadDir == "" {
		return nil, fmt.Errorf("no Go download cache directory (Options.GoDownloadDir)")
	}
	return &gomod.Client{Proxy: c.Go.proxy(), CacheDir: opts.GoDownloadDir, Progress: opts.Progress}, nil
}

// resolveGo looks every toolchain and module closure up in the checksum
// database.
func resolveGo(ctx context.Context, c *Config, opts Options) (*GoLock, error) {
	cl, err := goClient(c, opts)
	if err != nil {
		return nil, err
	}
	lock := &GoLock{}
	if tc := c.Go.Toolchain; tc != "" {
		for _, arch := range sortedStrings(c.Go.Arches) {
			p, v, err := gomod.ToolchainModule(tc, arch)
			if err != nil {
				return nil, fmt.Errorf("%s: go.toolchain: %w", c.file, err)
			}
			m, err := cl.Lookup(ctx, p, v)
			if err != nil {
				return nil, fmt.Errorf("%s: go.toolchain %s for %s: %w", c.file, tc, arch, err)
			}
			lm := lockedModule(m)
			lm.Arch = arch
			lock.Toolchains = append(lock.Toolchains, lm)
		}
	}
	// Closures overlap: a module one root needs only go.mod of may be a
	// module another root needs whole. Merged so that the zip wins, the
	// lock does not depend on the order of go.modules.
	merged := map[string]LockedModule{}
	for _, s := range c.Go.Modules {
		p, v, _ := splitModule(s)
		root, err := cl.Lookup(ctx, p, v)
		if err != nil {
			return nil, fmt.Errorf("%s: go.modules %s: %w", c.file, s, err)
		}
		mods, err := cl.Closure(ctx, root)
		if err != nil {
			return nil, fmt.Errorf("%s: go.modules %s: %w", c.file, s, err)
		}
		for _, m := range mods {
			k := m.Path + "@" + m.Version
			if old, ok := merged[k]; !ok || (old.Sum == "" && m.Sum != "") {
				merged[k] = lockedModule(m)
			}
		}
	}
	for _, m := range merged {
		lock.Modules = append(lock.Modules, m)
	}
	sortModules(lock.Modules)
	return lock, nil
}

func sortModules(m []LockedModule) {
	sort.Slice(m, func(i, j int) bool {
		if m[i].Path != m[j].Path {
			return m[i].Path < m[j].Path
		}
		return m[i].Version < m[j].Version
	})
}

// FetchedGo maps path@version to its verified cached files.
type FetchedGo map[string]gomod.Files

// fetchGo downloads and verifies every locked module.
func fetchGo(ctx context.Context, c *Config, l *GoLock, opts Options) (FetchedGo, error) {
	cl, err := goClient(c, opts)
	if err != nil {
		return nil, err
	}
	out := FetchedGo{}
	all := append(append([]LockedModule(nil), l.Toolchains...), l.Modules...)
	for i, m := range all {
		f, err := cl.Download(ctx, m.module())
		if err != nil {
			return nil, fmt.Errorf("locked module %s@%s: %w", m.Path, m.Version, err)
		}
		out[m.Path+"@"+m.Version] = f
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "[%d/%d] %s@%s\n", i+1, len(all), m.Path, m.Version)
		}
	}
	return out, nil
}

func (g *GoConfig) inputs(w io.Writer) {
	fmt.Fprintf(w, "go arches %s toolchain %s\n", strings.Join(sortedStrings(g.Arches), " "), g.Toolchain)
	fmt.Fprintf(w, "go modules %s\n", strings.Join(sortedStrings(g.Modules), " "))
}

func (l *GoLock) validate(c *Config) error {
	if c.Go.Toolchain != "" {
		for _, arch := range c.Go.Arches {
			m, ok := l.toolchain(arch)
			if !ok {
				return fmt.Errorf("go toolchain for %s is not locked: run `lkpkg mirror lock` again", arch)
			}
			p, v, err := gomod.ToolchainModule(c.Go.Toolchain, arch)
			if err != nil {
				return err
			}
			if m.Path != p || m.Version != v || m.Sum == "" {
				return fmt.Errorf("go toolchain for %s: the lock names %s@%s, mirror.yml wants %s@%s", arch, m.Path, m.Version, p, v)
			}
		}
	}
	for _, m := range append(append([]LockedModule(nil), l.Toolchains...), l.Modules...) {
		if err := m.validate(); err != nil {
			return fmt.Errorf("go: %w", err)
		}
	}
	return nil
}

func (l *GoLock) toolchain(arch string) (LockedModule, bool) {
	for _, m := range l.Toolchains {
		if m.Arch == arch {
			return m, true
		}
	}
	return LockedModule{}, false
}

// goSource is mirror.yml's go: section: toolchains and module closures
// checked against the Go checksum database, laid out as GOROOT and a
// GOPROXY tree.
type goSource struct {
	noImagePrep
	noTagTail
	c *Config
}

func (s *goSource) arches() (string, []string) { return "go.arches", s.c.Go.Arches }

func (s *goSource) writeInputs(w io.Writer, _ *Lock) error {
	s.c.Go.inputs(w)
	return nil
}

func (s *goSource) lock(ctx context.Context, l *Lock, opts Options) error {
	var err error
	l.Go, err = resolveGo(ctx, s.c, opts)
	return err
}

func (s *goSource) checkLock(l *Lock) error { return l.Go.validate(s.c) }

func (s *goSource) fetch(ctx context.Context, l *Lock, opts Options, out *Contents, stats *FetchStats) error {
	var err error
	if out.Go, err = fetchGo(ctx, s.c, l.Go, opts); err != nil {
		return err
	}
	stats.Packages += len(out.Go)
	return nil
}

func (s *goSource) layers(goarch string, l *Lock, contents *Contents, epoch time.Time, tmp *tempLayers) ([]namedLayer, imageSettings, error) {
	ls, env, err := goLayers(s.c, l.Go, contents.Go, goarch, epoch, tmp)
	set := imageSettings{env: env}
	if s.c.Go.Toolchain != "" {
		set.path = GOROOT + "/bin:"
	}
	return ls, set, err
}

// writeTag hashes how the Go layers are made.
func (s *goSource) writeTag(w io.Writer, _ *Lock) error {
	fmt.Fprintf(w, "go %s\n", GoLayout)
	return nil
}
