package mirror

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"github.com/lkpkg/lkpkg/mirror/deb"
)

// DebianLock is the debian: part of mirror.lock.
type DebianLock struct {
	// Releases are the signed InRelease files the lock was resolved from.
	Releases []LockedRelease `yaml:"releases"`
	// Packages maps an image dpkg arch to its closure, sorted by name, arch.
	Packages map[string][]LockedDeb `yaml:"packages"`
}

// LockedRelease records one verified InRelease.
type LockedRelease struct {
	Suite    string `yaml:"suite"`
	Date     string `yaml:"date"`
	SHA256   string `yaml:"sha256"`
	SignedBy string `yaml:"signed-by"`
}

// LockedDeb pins one .deb by its archive path, SHA-256 and size.
type LockedDeb struct {
	Name     string `yaml:"name"`
	Version  string `yaml:"version"`
	Arch     string `yaml:"arch"`
	Suite    string `yaml:"suite"`
	Filename string `yaml:"filename"`
	SHA256   string `yaml:"sha256"`
	Size     int64  `yaml:"size"`
}

var (
	debNameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	debVersionRE = regexp.MustCompile(`^[A-Za-z0-9.+~:-]+$`)
	sha256RE     = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func (p LockedDeb) String() string { return p.Name + ":" + p.Arch + " " + p.Version }

// validate checks a locked entry before it becomes a URL or a file name.
func (p LockedDeb) validate(d *DebianConfig) error {
	clean := path.Clean(p.Filename)
	switch {
	case !debNameRE.MatchString(p.Name):
		return fmt.Errorf("package name %q is not valid", p.Name)
	case !debVersionRE.MatchString(p.Version):
		return fmt.Errorf("%s: version %q is not valid", p.Name, p.Version)
	case debArches[p.Arch] == "" && p.Arch != "all":
		return fmt.Errorf("%s: arch %q is not valid", p, p.Arch)
	case clean != p.Filename || strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "..") || !strings.HasSuffix(clean, ".deb") || strings.ContainsAny(clean, "\\\x00"):
		return fmt.Errorf("%s: filename %q is not a path inside the archive", p, p.Filename)
	case !sha256RE.MatchString(p.SHA256):
		return fmt.Errorf("%s: sha256 %q is not a hex SHA-256", p, p.SHA256)
	case p.Size <= 0:
		return fmt.Errorf("%s: size %d", p, p.Size)
	}
	if _, ok := d.source(p.Suite); !ok {
		return fmt.Errorf("%s: suite %q is not in mirror.yml's debian.sources", p, p.Suite)
	}
	return nil
}

// debClient is the archive client for a mirror run.
func debClient(opts Options) (*deb.Client, error) {
	if opts.DebDownloadDir == "" {
		return nil, fmt.Errorf("no Debian download cache directory (Options.DebDownloadDir)")
	}
	return &deb.Client{CacheDir: opts.DebDownloadDir, Progress: opts.Progress}, nil
}

// keyring loads the trusted archive keys.
func (d *DebianConfig) keyring(c *Config) (*deb.Keyring, error) {
	kr, err := deb.LoadKeyring(c.Path(d.Keyring))
	if err != nil {
		return nil, fmt.Errorf("%s: debian.keyring: %w", c.file, err)
	}
	return kr, nil
}

// resolveDebian verifies every source's InRelease, loads the Packages
// indexes each image arch needs (hash-checked against the InRelease) and
// resolves each arch's world.
func resolveDebian(ctx context.Context, c *Config, opts Options) (*DebianLock, error) {
	d := c.Debian
	kr, err := d.keyring(c)
	if err != nil {
		return nil, err
	}
	cl, err := debClient(opts)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	lock := &DebianLock{Packages: map[string][]LockedDeb{}}
	releases := make([]*deb.Release, len(d.Sources))
	previous := previousReleaseDates(c.LockFile())
	for i, s := range d.Sources {
		rel, err := cl.Release(ctx, s.URL, s.Suite, kr, now)
		if err != nil {
			return nil, fmt.Errorf("%s: debian.sources[%d] (%s %s): %w", c.file, i, s.URL, s.Suite, err)
		}
		// A validly signed but older InRelease (replayed by someone on the
		// path: the suites without Valid-Until never expire) would pin
		// packages that later point releases fixed.
		if prev, ok := previous[s.Suite]; ok && rel.Date.Before(prev) && !opts.AllowOlderRelease {
			return nil, fmt.Errorf("%s: debian.sources[%d] (%s %s): the archive's InRelease is dated %s, older than the %s that %s was locked from: %s",
				c.file, i, s.URL, s.Suite, rel.Date.UTC().Format(time.RFC3339), prev.UTC().Format(time.RFC3339), c.LockFile(), rollbackHint)
		}
		releases[i] = rel
		lock.Releases = append(lock.Releases, LockedRelease{Suite: s.Suite, Date: rel.Date.UTC().Format(time.RFC3339), SHA256: rel.SHA256, SignedBy: rel.SignedBy})
	}

	// Every (source, component, arch) index any image arch needs, once.
	type key struct{ src, comp, arch string }
	var (
		mu      sync.Mutex
		indexes = map[key][]*deb.Package{}
		suiteOf = map[*deb.Package]string{}
	)
	need := map[string]bool{}
	for _, a := range append(slices.Clone(d.Arches), d.Foreign...) {
		need[a] = true
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(4)
	for i, s := range d.Sources {
		for _, comp := range s.Components {
			for arch := range need {
				eg.Go(func() error {
					pkgs, err := cl.Packages(ectx, s.URL, releases[i], comp, arch)
					if err != nil {
						return fmt.Errorf("%s %s/%s %s: %w", s.URL, s.Suite, comp, arch, err)
					}
					mu.Lock()
					defer mu.Unlock()
					indexes[key{s.Suite, comp, arch}] = pkgs
					for _, p := range pkgs {
						suiteOf[p] = s.Suite
					}
					if opts.Progress != nil {
						fmt.Fprintf(opts.Progress, "%s %s/%s %s: %d packages\n", s.URL, s.Suite, comp, arch, len(pkgs))
					}
					return nil
				})
			}
		}
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	for _, arch := range sortedStrings(d.Arches) {
		arches := []string{arch}
		for _, f := range sortedStrings(d.Foreign) {
			if f != arch {
				arches = append(arches, f)
			}
		}
		// Sources in preference order, so an identical package listed by
		// two suites is taken from the first.
		var lists [][]*deb.Package
		for _, s := range d.Sources {
			for _, comp := range s.Components {
				for _, a := range arches {
					lists = append(lists, indexes[key{s.Suite, comp, a}])
				}
			}
		}
		ix := deb.NewIndex(lists...)
		selected, err := ix.Resolve(d.World(arch), deb.ResolveOptions{Native: arch, Foreign: arches[1:], Essential: d.Essential})
		if err != nil {
			return nil, fmt.Errorf("resolving %s debian packages for %s: %w", c.file, arch, err)
		}
		for _, p := range selected {
			lp := LockedDeb{Name: p.Name, Version: p.Version, Arch: p.Architecture, Suite: suiteOf[p],
				Filename: p.Filename, SHA256: strings.ToLower(p.SHA256), Size: p.Size}
			if err := lp.validate(d); err != nil {
				return nil, fmt.Errorf("the archive's index: %w", err)
			}
			lock.Packages[arch] = append(lock.Packages[arch], lp)
		}
	}
	return lock, nil
}

// sortDebs orders a closure by name, then arch.
func sortDebs(p []LockedDeb) {
	sort.Slice(p, func(i, j int) bool {
		if p[i].Name != p[j].Name {
			return p[i].Name < p[j].Name
		}
		return p[i].Arch < p[j].Arch
	})
}

// FetchedDebs maps a .deb's SHA-256 to its verified cached file.
type FetchedDebs map[string]string

// fetchDebian downloads and verifies every locked .deb (size and
// SHA-256; the InRelease signature pinned those when locking). A file
// already in the download cache needs no network, so a lock keeps working
// once upstream has moved on.
func fetchDebian(ctx context.Context, c *Config, l *DebianLock, opts Options) (FetchedDebs, error) {
	cl, err := debClient(opts)
	if err != nil {
		return nil, err
	}
	var todo []LockedDeb
	seen := map[string]bool{}
	for _, arch := range sortedStrings(c.Debian.Arches) {
		for _, p := range l.Packages[arch] {
			if !seen[p.SHA256] {
				seen[p.SHA256] = true
				todo = append(todo, p)
			}
		}
	}
	var (
		mu  sync.Mutex
		out = FetchedDebs{}
		n   int
	)
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(max(opts.Jobs, 4))
	upstream := opts.DebianUpstream
	if upstream != "" {
		if err := checkURL(upstream); err != nil {
			return nil, fmt.Errorf("Debian upstream: %w", err)
		}
	}
	for _, p := range todo {
		base := upstream
		if base == "" {
			src, _ := c.Debian.source(p.Suite)
			base = src.URL
		}
		eg.Go(func() error {
			file, err := cl.Fetch(ectx, base, p.Filename, p.SHA256, p.Size)
			if err != nil {
				return fmt.Errorf("locked package %s (%s): %w", p, p.Filename, err)
			}
			mu.Lock()
			defer mu.Unlock()
			out[p.SHA256] = file
			n++
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "[%d/%d] %s\n", n, len(todo), p)
			}
			return nil
		})
	}
	return out, eg.Wait()
}

// debInputs is the debian: part of the lock's inputs digest.
func (d *DebianConfig) inputs(c *Config, w io.Writer) error {
	for _, s := range d.Sources {
		fmt.Fprintf(w, "debian source %s %s\n", s.Suite, strings.Join(s.Components, " "))
	}
	for _, a := range sortedStrings(d.Arches) {
		fmt.Fprintf(w, "debian world %s %s\n", a, strings.Join(d.World(a), " "))
	}
	fmt.Fprintf(w, "debian foreign %s essential %v\n", strings.Join(sortedStrings(d.Foreign), " "), d.Essential)
	// The key files themselves, not only their fingerprints: a revocation
	// or a new expiry date in a keyring makes the lock stale.
	if _, err := d.keyring(c); err != nil {
		return err
	}
	files := []string{c.Path(d.Keyring)}
	if fi, err := os.Stat(files[0]); err == nil && fi.IsDir() {
		gpg, _ := filepath.Glob(filepath.Join(files[0], "*.gpg"))
		asc, _ := filepath.Glob(filepath.Join(files[0], "*.asc"))
		files = append(gpg, asc...)
		sort.Strings(files)
	}
	for _, f := range files {
		sum, err := fileSHA256(f)
		if err != nil {
			return fmt.Errorf("%s: debian.keyring: %w", c.file, err)
		}
		fmt.Fprintf(w, "debian key %s sha256:%s\n", filepath.Base(f), sum)
	}
	return nil
}

func (l *DebianLock) validate(c *Config) error {
	for _, a := range c.Debian.Arches {
		pkgs, ok := l.Packages[a]
		if !ok {
			return fmt.Errorf("debian arch %s is not locked: run `lkpkg mirror lock` again", a)
		}
		for _, p := range pkgs {
			if err := p.validate(c.Debian); err != nil {
				return fmt.Errorf("debian %s: %w", a, err)
			}
		}
	}
	return nil
}

func sortedStrings(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// previousReleaseDates reads the InRelease dates of the current lock, if
// there is one (stale or not), by suite.
func previousReleaseDates(file string) map[string]time.Time {
	out := map[string]time.Time{}
	data, err := os.ReadFile(file)
	if err != nil {
		return out
	}
	var l struct {
		Debian *DebianLock `yaml:"debian"`
	}
	if yaml.Unmarshal(data, &l) != nil || l.Debian == nil {
		return out
	}
	for _, r := range l.Debian.Releases {
		if t, err := time.Parse(time.RFC3339, r.Date); err == nil {
			out[r.Suite] = t
		}
	}
	return out
}

// debSource is mirror.yml's debian: section: signed InRelease files,
// hash-checked Packages indexes resolved as apt does, and the .debs (and
// optionally the root filesystem they install) as layers.
type debSource struct {
	noImagePrep
	noTagTail
	c *Config
}

func (s *debSource) arches() (string, []string) {
	var out []string
	for _, a := range s.c.Debian.Arches {
		out = append(out, debGOARCH(a))
	}
	return "debian.arches", out
}

func (s *debSource) writeInputs(w io.Writer, _ *Lock) error { return s.c.Debian.inputs(s.c, w) }

func (s *debSource) lock(ctx context.Context, l *Lock, opts Options) error {
	var err error
	l.Debian, err = resolveDebian(ctx, s.c, opts)
	return err
}

func (s *debSource) checkLock(l *Lock) error { return l.Debian.validate(s.c) }

func (s *debSource) fetch(ctx context.Context, l *Lock, opts Options, out *Contents, stats *FetchStats) error {
	var err error
	if out.Debs, err = fetchDebian(ctx, s.c, l.Debian, opts); err != nil {
		return err
	}
	stats.Packages += len(out.Debs)
	return nil
}

func (s *debSource) layers(goarch string, l *Lock, contents *Contents, epoch time.Time, tmp *tempLayers) ([]namedLayer, imageSettings, error) {
	ls, err := debianLayers(s.c, l.Debian, contents.Debs, goarch, epoch, tmp)
	return ls, imageSettings{env: s.c.Debian.Env}, err
}

// writeTag hashes how the Debian layers are made.
func (s *debSource) writeTag(w io.Writer, _ *Lock) error {
	fmt.Fprintf(w, "debian %s install %v env %q\n", DebianLayout, s.c.Debian.Installs(), s.c.Debian.Env)
	return nil
}
