package pkgbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/name"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lkpkg/lkpkg/mirror"
)

// PkgRefPrefix in a build arg value names another package of the tree by
// its directory (relative to the package): LinuxKit's `@lkt:pkg:` syntax.
// It is replaced by that package's image reference, and makes it a
// dependency that is built first.
const PkgRefPrefix = "@lkt:pkg:"

// Package is a loaded package: its build.yml, its exact build context and
// everything else its tag is computed from.
type Package struct {
	Dir            string // absolute
	Config         *BuildYML
	Org, Image     string
	DockerfilePath string // relative to Dir
	Dockerfile     []byte
	Context        *BuildContext
	Arches         []string          // GOARCH names from build.yml (or the default)
	BuildArgs      map[string]string // after @lkt:pkg: substitution
	Epoch          int64
	Tag            string
	// Bases maps every external image the Dockerfile uses (for any arch) to
	// the digest it resolves to; tree packages map to their own Ref.
	Bases map[string]Base
	Deps  []*Package // tree packages this one builds on
	// DependImages are depends.docker-images, each pinned by digest.
	DependImages []string
	// pkgArgs are the build args set from @lkt:pkg: references.
	pkgArgs map[string]*Package
	// Mirror is set for a mirror package: a folder with mirror.yml instead
	// of build.yml, built by `lkpkg mirror build` rather than BuildKit.
	Mirror *mirror.Config
}

// Base is an image a package starts from.
type Base struct {
	Ref    string  // as written (after ARG expansion)
	Digest v1.Hash // from the cache or the reference; zero for tree packages
	Pkg    *Package
	// BuildPlatformOnly: used only as `FROM --platform=$BUILDPLATFORM`
	// (tools run on the builder), on every platform built; BuildKit picks
	// the builder's platform from its index.
	BuildPlatformOnly bool
}

// Ref is the image reference the package is stored and pushed under.
func (p *Package) Ref() string { return p.Repo() + ":" + p.Tag }

// Repo is the reference without tag: org/image.
func (p *Package) Repo() string { return repoName(p.Org, p.Image) }

func repoName(org, image string) string {
	if org == "" {
		return image
	}
	return org + "/" + image
}

// Platforms returns linux/ARCH for every declared arch.
func (p *Package) Platforms() []string {
	out := make([]string, len(p.Arches))
	for i, a := range p.Arches {
		out[i] = "linux/" + a
	}
	return out
}

// Resolver finds images in the local cache; *cache.Cache implements it.
type Resolver interface {
	Resolve(ref string) (v1.Descriptor, bool, error)
	HasBlob(h v1.Hash) bool
}

// LoadOptions change how packages are loaded.
type LoadOptions struct {
	Org             string // overrides build.yml `org`
	SourceDateEpoch *int64 // overrides build.yml and the default
	Cache           Resolver
}

// Loader loads packages and their dependencies once each.
type Loader struct {
	opts    LoadOptions
	byDir   map[string]*Package
	loading map[string]bool
	// repos maps org/image to the directory of every package named on the
	// command line, so a literal FROM org/image:tag of one of them is
	// recognised as a tree dependency.
	repos map[string]string
}

// NewLoader returns a Loader.
func NewLoader(opts LoadOptions) *Loader {
	return &Loader{opts: opts, byDir: map[string]*Package{}, loading: map[string]bool{}, repos: map[string]string{}}
}

// Load loads the packages named by args. An arg is a package directory or
// DIR/... for every package below DIR. Dependencies are loaded too (they
// appear in each package's Deps) but are only returned if named.
func (l *Loader) Load(args ...string) ([]*Package, error) {
	dirs, err := ExpandArgs(args)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if isMirror(d) {
			continue // only reachable through @lkt:pkg: (its tag is not in any FROM)
		}
		if cfg, err := readBuildYML(d); err == nil {
			org := cfg.Org
			if l.opts.Org != "" {
				org = l.opts.Org
			}
			if r, err := name.NewRepository(repoName(org, cfg.Image), name.WeakValidation); err == nil {
				l.repos[r.Name()] = d
			}
		}
	}
	out := make([]*Package, 0, len(dirs))
	for _, d := range dirs {
		p, err := l.load(d)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ExpandArgs turns package arguments into absolute package directories,
// sorted and de-duplicated; DIR/... walks DIR for build.yml files.
func ExpandArgs(args []string) ([]string, error) {
	seen := map[string]bool{}
	var dirs []string
	add := func(d string) {
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	for _, a := range args {
		if root, ok := strings.CutSuffix(a, "/..."); ok || a == "..." {
			if a == "..." {
				root = "."
			}
			abs, err := filepath.Abs(root)
			if err != nil {
				return nil, err
			}
			n := 0
			err = filepath.WalkDir(abs, func(p string, d os.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() && p != abs && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
					return filepath.SkipDir
				}
				if !d.IsDir() && (d.Name() == "build.yml" || d.Name() == "mirror.yml" && isMirror(filepath.Dir(p))) {
					add(filepath.Dir(p))
					n++
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, fmt.Errorf("%s: no packages (directories with build.yml) found", a)
			}
			continue
		}
		abs, err := filepath.Abs(a)
		if err != nil {
			return nil, err
		}
		add(abs)
	}
	sort.Strings(dirs)
	return dirs, nil
}

func (l *Loader) load(dir string) (*Package, error) {
	if p, ok := l.byDir[dir]; ok {
		return p, nil
	}
	if l.loading[dir] {
		return nil, fmt.Errorf("%s: dependency cycle through this package", dir)
	}
	l.loading[dir] = true
	defer delete(l.loading, dir)

	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("package %s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("package %s: not a directory", dir)
	}
	if isMirror(dir) {
		p, err := loadMirror(dir, l.opts.Org)
		if err == nil {
			l.byDir[dir] = p
		}
		return p, err
	}
	cfg, err := readBuildYML(dir)
	if err != nil {
		return nil, err
	}
	p := &Package{Dir: dir, Config: cfg, Image: cfg.Image, Org: cfg.Org, DockerfilePath: cfg.Dockerfile}
	if l.opts.Org != "" {
		p.Org = l.opts.Org
	}
	if p.DockerfilePath == "" {
		p.DockerfilePath = "Dockerfile"
	}
	p.Dockerfile, err = os.ReadFile(filepath.Join(dir, p.DockerfilePath))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", filepath.Join(dir, "build.yml"), "dockerfile", err)
	}
	p.Arches = cfg.Arches
	if len(p.Arches) == 0 {
		p.Arches = DefaultArches
	}
	p.Arches = append([]string(nil), p.Arches...)
	sort.Strings(p.Arches)
	p.Epoch = DefaultSourceDateEpoch
	if cfg.SourceDateEpoch != nil {
		p.Epoch = *cfg.SourceDateEpoch
	}
	if l.opts.SourceDateEpoch != nil {
		p.Epoch = *l.opts.SourceDateEpoch
	}
	if p.Context, err = loadContext(dir, p.DockerfilePath, cfg.ExtraSources); err != nil {
		return nil, err
	}
	if err := l.resolveBuildArgs(p); err != nil {
		return nil, err
	}
	if p.DependImages, err = dependImages(p, l.opts.Cache); err != nil {
		return nil, err
	}
	if err := l.resolveBases(p); err != nil {
		return nil, err
	}
	if p.Tag, err = computeTag(p); err != nil {
		return nil, err
	}
	l.byDir[dir] = p
	return p, nil
}

func (l *Loader) resolveBuildArgs(p *Package) error {
	p.BuildArgs = map[string]string{}
	for _, kv := range p.Config.BuildArgs {
		k, v, _ := strings.Cut(kv, "=")
		if rel, ok := strings.CutPrefix(v, PkgRefPrefix); ok {
			if !filepath.IsAbs(rel) {
				rel = filepath.Join(p.Dir, rel)
			}
			dep, err := l.load(rel)
			if err != nil {
				return fmt.Errorf("%s: buildArgs %s: %w", filepath.Join(p.Dir, "build.yml"), k, err)
			}
			p.addDep(dep)
			if p.pkgArgs == nil {
				p.pkgArgs = map[string]*Package{}
			}
			p.pkgArgs[k] = dep
			v = dep.Ref()
		}
		p.BuildArgs[k] = v
	}
	return nil
}

func (p *Package) addDep(d *Package) {
	for _, x := range p.Deps {
		if x == d {
			return
		}
	}
	p.Deps = append(p.Deps, d)
}

// resolveBases finds what every external image of the Dockerfile is: a
// tree package, or an image in the local cache. Builds never pull, so
// anything else is an error here, before any build starts.
func (l *Loader) resolveBases(p *Package) error {
	p.Bases = map[string]Base{}
	dfFile := filepath.Join(p.Dir, p.DockerfilePath)
	for _, arch := range p.Arches {
		plat := "linux/" + arch
		if _, err := platforms.Parse(plat); err != nil {
			return err
		}
		refs, buildOnly, err := externalImagesByUse(dfFile, p.Dockerfile, p.BuildArgs, plat)
		if err != nil {
			return err
		}
		// A tree package used as a target stage must exist for every arch
		// built; one used only as `FROM --platform=$BUILDPLATFORM` (a cross
		// toolchain) runs on the builder, whose platform BuildKit matches.
		for _, d := range p.Deps {
			for _, ref := range refs {
				if sameRef(d.Ref(), ref) && !buildOnly[ref] {
					if missing := missingArches(p, d); len(missing) > 0 {
						return fmt.Errorf("%s: FROM %s: package %s (%s) is not built for %s, which this package needs (use it as `FROM --platform=$BUILDPLATFORM` if it only runs tools on the builder)", dfFile, ref, d.Repo(), d.Dir, strings.Join(missing, ", "))
					}
				}
			}
		}
		for _, ref := range refs {
			if b, ok := p.Bases[ref]; ok {
				b.BuildPlatformOnly = b.BuildPlatformOnly && buildOnly[ref]
				p.Bases[ref] = b
				continue
			}
			b, err := l.resolveBase(p, ref)
			if err != nil {
				return fmt.Errorf("%s: FROM %s: %w", dfFile, ref, err)
			}
			b.BuildPlatformOnly = buildOnly[ref]
			p.Bases[ref] = b
		}
	}
	return nil
}

func (l *Loader) resolveBase(p *Package, ref string) (Base, error) {
	for _, d := range p.Deps {
		if sameRef(d.Ref(), ref) {
			return Base{Ref: ref, Pkg: d}, nil
		}
	}
	if tag, err := name.NewTag(ref, name.WeakValidation); err == nil {
		if dir, ok := l.repos[tag.Context().Name()]; ok && dir != p.Dir {
			dep, err := l.load(dir)
			if err != nil {
				return Base{}, err
			}
			if sameRef(dep.Ref(), ref) {
				if missing := missingArches(p, dep); len(missing) > 0 {
					return Base{}, fmt.Errorf("package %s (%s) is not built for %s, which this package needs", dep.Repo(), dep.Dir, strings.Join(missing, ", "))
				}
				p.addDep(dep)
				return Base{Ref: ref, Pkg: dep}, nil
			}
			// An older tag of a tree package: only usable if cached.
		}
	}
	if l.opts.Cache != nil {
		desc, ok, err := l.opts.Cache.Resolve(ref)
		if err != nil {
			return Base{}, err
		}
		if ok {
			return Base{Ref: ref, Digest: desc.Digest}, nil
		}
	}
	if _, dgst, ok := strings.Cut(ref, "@"); ok {
		h, err := v1.NewHash(dgst)
		if err != nil {
			return Base{}, err
		}
		if l.opts.Cache != nil && l.opts.Cache.HasBlob(h) {
			return Base{Ref: ref, Digest: h}, nil
		}
		return Base{}, fmt.Errorf("pinned image %s is not in the local cache, and lkpkg builds never pull: `lkpkg cache import` it first", dgst)
	}
	return Base{}, fmt.Errorf("image is neither a package of this tree nor in the local cache, and lkpkg builds never pull: build its package first, `lkpkg cache import` it, or refer to a tree package with a build arg set to %s<dir>", PkgRefPrefix)
}

// missingArches lists the arches of p that its dependency dep lacks.
func missingArches(p, dep *Package) []string {
	var out []string
	for _, a := range p.Arches {
		found := false
		for _, b := range dep.Arches {
			found = found || a == b
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}
