package pkgbuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/mirror"
)

// isMirror reports whether dir is a mirror package (mirror.yml and no
// build.yml).
func isMirror(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "build.yml")); err == nil {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, "mirror.yml"))
	return err == nil
}

// loadMirror loads a mirror package: its tag is the mirror image's tag
// (lock, root filesystems, key), so other packages can build FROM it
// through `@lkt:pkg:DIR` like any package.
func loadMirror(dir, org string) (*Package, error) {
	c, err := mirror.Load(dir)
	if err != nil {
		return nil, err
	}
	if org != "" {
		c.Org = org
	}
	tag, err := mirror.Tag(c)
	if err != nil {
		return nil, err
	}
	p := &Package{Dir: dir, Mirror: c, Org: c.Org, Image: c.Image, Tag: tag,
		Config: &BuildYML{Image: c.Image, Org: c.Org}, Context: &BuildContext{}}
	if p.Arches, err = c.OCIArches(); err != nil {
		return nil, err
	}
	return p, nil
}

// buildMirror builds a mirror package's image into the cache.
func (b *Scheduler) buildMirror(ctx context.Context, p *Package) (Result, error) {
	opts := b.Mirror
	if opts.Progress == nil {
		opts.Progress = b.Opts.Out
	}
	ref, desc, err := mirror.Build(ctx, p.Mirror, opts, b.Cache)
	if err != nil {
		return Result{Ref: p.Ref()}, fmt.Errorf("mirror %s: %w", p.Dir, err)
	}
	if ref != p.Ref() {
		return Result{Ref: p.Ref()}, fmt.Errorf("mirror %s changed while building (%s, expected %s)", p.Dir, ref, p.Ref())
	}
	return Result{Ref: ref, Digest: desc.Digest, Platforms: p.Platforms()}, nil
}

// verifyMirror rebuilds the mirror image in memory and compares digests.
func (b *Scheduler) verifyMirror(ctx context.Context, p *Package) error {
	want, ok, err := b.Cache.Resolve(p.Ref())
	if err != nil || !ok {
		return fmt.Errorf("%s: verify-reproducible needs a first build in the cache", p.Ref())
	}
	var again memStore
	if _, _, err := mirror.Build(ctx, p.Mirror, b.Mirror, &again); err != nil {
		return err
	}
	if again.desc.Digest != want.Digest {
		return fmt.Errorf("%s is not reproducible: first build %s, second build %s", p.Ref(), want.Digest, again.desc.Digest)
	}
	return nil
}

// memStore keeps the descriptor of an index instead of storing it.
type memStore struct{ desc v1.Descriptor }

func (m *memStore) WriteIndex(_ context.Context, _ string, idx v1.ImageIndex) (v1.Descriptor, error) {
	d, err := idx.Digest()
	m.desc = v1.Descriptor{Digest: d}
	return m.desc, err
}
