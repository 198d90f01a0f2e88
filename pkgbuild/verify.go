package pkgbuild

import (
	"context"
	"fmt"
	"strings"

	"github.com/lkpkg/lkpkg/manifest"
)

// VerifyReproducible rebuilds p from scratch (no BuildKit cache) for the
// wanted platforms and compares every platform's manifest digest with the
// one in the local cache. The cache is not changed.
func (b *Scheduler) VerifyReproducible(ctx context.Context, p *Package) error {
	if p.Mirror != nil {
		return b.verifyMirror(ctx, p)
	}
	idx, err := b.Cache.ImageIndex(p.Ref())
	if err != nil {
		return fmt.Errorf("%s: verify-reproducible needs a first build in the cache: %w", p.Ref(), err)
	}
	cached, err := manifest.Images(idx)
	if err != nil {
		return err
	}
	imgs, cleanup, err := b.solveAll(ctx, p, b.Wanted(p), true)
	defer cleanup()
	if err != nil {
		return fmt.Errorf("%s: second build: %w", p.Ref(), err)
	}
	var diffs []string
	for _, again := range imgs {
		d2, err := again.Image.Digest()
		if err != nil {
			return err
		}
		found := false
		for _, first := range cached {
			if first.Platform.String() != again.Platform.String() {
				continue
			}
			found = true
			d1, err := first.Image.Digest()
			if err != nil {
				return err
			}
			if d1 != d2 {
				diffs = append(diffs, fmt.Sprintf("%s: first build %s, second build %s", again.Platform, d1, d2))
			}
		}
		if !found {
			diffs = append(diffs, fmt.Sprintf("%s: not in the first build", again.Platform))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%s is not reproducible:\n  %s", p.Ref(), strings.Join(diffs, "\n  "))
	}
	return nil
}
