package pkgbuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/manifest"
	"github.com/lkpkg/lkpkg/mirror"
	"github.com/lkpkg/lkpkg/pkgbuild/buildkitd"
	"github.com/lkpkg/lkpkg/runconfig"
)

// cacheStoreID names the local cache in SolveOpt.OCIStores; Dockerfile
// bases are fed from it as oci-layout:// named contexts.
const cacheStoreID = "lkpkg-cache"

// Options control a build.
type Options struct {
	Rebuild   bool     // build even if the tag is already in the cache (pkg build --force)
	NoCache   bool     // do not use BuildKit's build cache
	Platforms []string // subset of the declared platforms; empty = all
	Progress  string   // auto, plain, tty, quiet, rawjson
	Out       io.Writer
}

// Scheduler builds packages into the local cache: one at a time (Build)
// or a whole tree in dependency order (BuildAll, BuildTree), on the
// buildkitd daemons Daemons hands out.
type Scheduler struct {
	Cache   *cache.Cache
	Daemons *Daemons
	Opts    Options
	Mirror  mirror.Options // for mirror packages
}

// Result says what a build did.
type Result struct {
	Ref       string
	Digest    v1.Hash
	Platforms []string // platforms built (empty when Skipped)
	Skipped   bool     // already in the cache
}

// Wanted returns the platforms of p to build: the declared ones,
// restricted to Opts.Platforms when given.
func (b *Scheduler) Wanted(p *Package) []string {
	declared := p.Platforms()
	if len(b.Opts.Platforms) == 0 {
		return declared
	}
	var out []string
	for _, d := range declared {
		for _, w := range b.Opts.Platforms {
			if d == w {
				out = append(out, d)
			}
		}
	}
	return out
}

// Missing returns the wanted platforms of p not yet in the cache.
func (b *Scheduler) Missing(p *Package) ([]string, error) {
	want := b.Wanted(p)
	_, ok, err := b.Cache.Resolve(p.Ref())
	if err != nil || !ok {
		return want, err
	}
	idx, err := b.Cache.ImageIndex(p.Ref())
	if err != nil {
		return want, nil
	}
	have, err := manifest.Platforms(idx)
	if err != nil {
		return want, nil
	}
	var missing []string
	for _, w := range want {
		if !contains(have, w) {
			missing = append(missing, w)
		}
	}
	return missing, nil
}

// Build builds p for the wanted platforms (only the missing ones unless
// Rebuild) and stores the merged index in the cache under p.Ref().
func (b *Scheduler) Build(ctx context.Context, p *Package) (Result, error) {
	res := Result{Ref: p.Ref()}
	todo := b.Wanted(p)
	if len(todo) == 0 {
		return res, fmt.Errorf("%s: none of the requested platforms %v is in its arches %v", p.Dir, b.Opts.Platforms, p.Arches)
	}
	if !b.Opts.Rebuild {
		missing, err := b.Missing(p)
		if err != nil {
			return res, err
		}
		if len(missing) == 0 {
			desc, _, err := b.Cache.Resolve(p.Ref())
			res.Digest, res.Skipped = desc.Digest, true
			return res, err
		}
		todo = missing
	}
	if p.Mirror != nil {
		return b.buildMirror(ctx, p)
	}
	imgs, cleanup, err := b.solveAll(ctx, p, todo, b.Opts.NoCache)
	defer cleanup()
	if err != nil {
		return res, err
	}
	// Merge under the cache lock: platforms built by another process in
	// the meantime are kept, ours win.
	desc, err := b.Cache.UpdateIndex(ctx, p.Ref(), func(old v1.ImageIndex) (v1.ImageIndex, error) {
		return manifest.Merge(old, imgs)
	})
	if err != nil {
		return res, err
	}
	res.Digest, res.Platforms = desc.Digest, todo
	return res, nil
}

// solveAll runs one BuildKit solve per builder (a builder may serve
// several platforms) and returns one image per platform.
// The images read lazily from export directories under the cache's tmp/;
// cleanup removes them once the caller has stored the images.
func (b *Scheduler) solveAll(ctx context.Context, p *Package, platforms []string, noCache bool) (imgs []manifest.PlatformImage, cleanup func(), err error) {
	groups := b.Daemons.Groups(platforms)
	if len(p.DependImages) > 0 {
		groups = perPlatform(groups) // each platform gets its own arch's images
	}
	// Export directories live in the cache's tmp/ (same filesystem), each
	// locked so that `cache prune` leaves running builds alone.
	dirs := make([]string, len(groups))
	var releases []func()
	cleanup = func() {
		for _, r := range releases {
			r()
		}
	}
	for i := range groups {
		dir, release, err := b.Cache.TempDir("build-")
		if err != nil {
			return nil, cleanup, err
		}
		dirs[i] = dir
		releases = append(releases, release)
	}
	results := make([][]manifest.PlatformImage, len(groups))
	eg, ctx := errgroup.WithContext(ctx)
	for i, g := range groups {
		eg.Go(func() error {
			imgs, err := b.solve(ctx, p, g.Address, g.Platforms, dirs[i], noCache)
			results[i] = imgs
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, cleanup, err
	}
	for _, r := range results {
		imgs = append(imgs, r...)
	}
	return imgs, cleanup, nil
}

func (b *Scheduler) solve(ctx context.Context, p *Package, addr string, platforms []string, outDir string, noCache bool) ([]manifest.PlatformImage, error) {
	c, err := b.Daemons.Client(ctx, addr)
	if err != nil {
		return nil, err
	}
	store, err := b.Cache.ContentStore()
	if err != nil {
		return nil, err
	}
	attrs, err := b.frontendAttrs(p, platforms, store, noCache)
	if err != nil {
		return nil, err
	}
	bc := p.Context
	if len(p.DependImages) > 0 {
		depDir, release, err := b.Cache.TempDir("deps-")
		if err != nil {
			return nil, err
		}
		defer release()
		if bc, err = b.withDependImages(ctx, p, platforms[0], depDir); err != nil {
			return nil, err
		}
	}
	ctxFS := bc.FS(p.Epoch)
	opt := client.SolveOpt{
		// BuildKit re-sends only context files whose path, size, mode or
		// mtime changed since the last transfer under the same key. Our
		// mtimes are all the epoch, so the key must change whenever any
		// content does: the tag is exactly that.
		SharedKey:     p.Ref(),
		Frontend:      "dockerfile.v0",
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": ctxFS, "dockerfile": ctxFS},
		OCIStores:     map[string]content.Store{cacheStoreID: store},
		Exports: []client.ExportEntry{{
			Type: client.ExporterOCI,
			Attrs: map[string]string{
				"tar":               "false",
				"rewrite-timestamp": "true",
				"oci-mediatypes":    "true",
				"name":              p.Ref(),
			},
			OutputDir: outDir,
		}},
	}
	mode := b.Opts.Progress
	if mode == "" {
		mode = "auto"
	}
	out := b.Opts.Out
	if out == nil {
		out = os.Stderr
	}
	display, err := progressui.NewDisplay(out, progressui.DisplayMode(mode), progressui.WithPhase(p.Repo()+" "+strings.Join(platforms, ",")))
	if err != nil {
		return nil, err
	}
	ch := make(chan *client.SolveStatus)
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		_, err := c.Solve(ectx, nil, opt, ch)
		return err
	})
	eg.Go(func() error {
		_, err := display.UpdateFrom(context.WithoutCancel(ectx), ch)
		return err
	})
	if err := eg.Wait(); err != nil {
		return nil, fmt.Errorf("building %s (%s) for %s on %s: %w", p.Dir, p.Ref(), strings.Join(platforms, ","), b.Daemons.Name(addr), err)
	}
	return readExport(outDir, platforms)
}

// frontendAttrs are the dockerfile frontend options for one solve.
func (b *Scheduler) frontendAttrs(p *Package, platforms []string, store content.Store, noCache bool) (map[string]string, error) {
	attrs := map[string]string{
		"filename":                    filepath.ToSlash(p.DockerfilePath),
		"platform":                    strings.Join(platforms, ","),
		"build-arg:SOURCE_DATE_EPOCH": strconv.FormatInt(p.Epoch, 10),
	}
	for k, v := range p.BuildArgs {
		attrs["build-arg:"+k] = v
	}
	if !p.Config.Network {
		attrs["force-network-mode"] = "none"
	}
	if p.Config.DisableCache || noCache {
		attrs["no-cache"] = ""
	}
	if p.Config.Config != nil {
		label, err := p.Config.Config.LabelValue()
		if err != nil {
			return nil, err
		}
		attrs["label:"+runconfig.Label] = label
	}
	for _, ref := range sortedKeys(p.Bases) {
		base := p.Bases[ref]
		dgst := base.Digest
		if base.Pkg != nil {
			desc, ok, err := b.Cache.Resolve(base.Pkg.Ref())
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("%s: base %s (package %s) is not built yet", p.Dir, ref, base.Pkg.Dir)
			}
			dgst = desc.Digest
		}
		if _, err := store.Info(context.Background(), digestOf(dgst)); err != nil {
			return nil, fmt.Errorf("%s: base image %s (%s) is not in the local cache %s; lkpkg builds never pull", p.Dir, ref, dgst, b.Cache.Dir())
		}
		key, err := contextKey(ref)
		if err != nil {
			return nil, fmt.Errorf("%s: base image %q: %w", p.Dir, ref, err)
		}
		attrs["context:"+key] = "oci-layout://" + cacheStoreID + "@" + dgst.String()
	}
	return attrs, nil
}

// contextKey is the name BuildKit's dockerfile frontend looks a named
// context up by: the familiar form of the reference, without ":latest".
func contextKey(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(reference.FamiliarString(named), ":latest"), nil
}

// readExport reads the OCI layout the exporter wrote: an index for a
// multi-platform solve, a single manifest otherwise.
func readExport(dir string, platforms []string) ([]manifest.PlatformImage, error) {
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading BuildKit's export: %w", err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := top.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(im.Manifests) != 1 {
		return nil, fmt.Errorf("BuildKit's export has %d entries, expected 1", len(im.Manifests))
	}
	d := im.Manifests[0]
	var imgs []manifest.PlatformImage
	switch {
	case d.MediaType == types.OCIImageIndex || d.MediaType == types.DockerManifestList:
		idx, err := top.ImageIndex(d.Digest)
		if err != nil {
			return nil, err
		}
		if imgs, err = manifest.Images(idx); err != nil {
			return nil, err
		}
	default:
		img, err := top.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		imgs = []manifest.PlatformImage{{Image: img, Platform: *cf.Platform()}}
	}
	var got []string
	for i := range imgs {
		imgs[i].Platform = normalizePlatform(imgs[i].Platform)
		got = append(got, imgs[i].Platform.String())
	}
	sort.Strings(got)
	var want []string
	for _, s := range platforms {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			return nil, err
		}
		want = append(want, normalizePlatform(*p).String())
	}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		return nil, fmt.Errorf("BuildKit exported platforms %v, expected %v", got, want)
	}
	return imgs, nil
}

// normalizePlatform drops what containerd treats as defaults (arm64's
// "v8" variant) so that platforms compare equal however they were written.
func normalizePlatform(p v1.Platform) v1.Platform {
	n := platforms.Normalize(ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant})
	p.OS, p.Architecture, p.Variant = n.OS, n.Architecture, n.Variant
	if p.Architecture == "arm64" && p.Variant == "v8" {
		p.Variant = ""
	}
	return p
}

func digestOf(h v1.Hash) digest.Digest { return digest.Digest(h.String()) }

// perPlatform splits builder groups into one group per platform.
func perPlatform(groups []buildkitd.Group) []buildkitd.Group {
	var out []buildkitd.Group
	for _, g := range groups {
		for _, p := range g.Platforms {
			out = append(out, buildkitd.Group{Address: g.Address, Platforms: []string{p}})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
