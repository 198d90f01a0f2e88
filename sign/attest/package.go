package attest

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/pkgbuild"
)

// Builder and build type URIs of lkpkg package provenance.
const (
	PackageBuilderID = "https://github.com/lkpkg/lkpkg/pkgbuild@" + pkgbuild.BuildFormat
	PackageBuildType = "https://lkpkg.dev/build/v1"
)

// PackageBuild describes how package p was built for platform, for its
// provenance: nothing machine-specific (no local paths, no cache-local
// digests), so the same inputs give byte-identical provenance on every
// host. Bases built from other packages are looked up in c.
func PackageBuild(c *cache.Cache, p *pkgbuild.Package, platform v1.Platform) (Build, error) {
	in, err := p.Inputs()
	if err != nil {
		return Build{}, err
	}
	bases := map[string]string{}
	for ref, b := range p.Bases {
		if bases[ref], err = baseDigest(c, b, platform); err != nil {
			return Build{}, err
		}
	}
	network := p.Config != nil && p.Config.Network
	return Build{
		BuilderID: PackageBuilderID, BuildType: PackageBuildType,
		Package: p.Image, Tag: p.Tag, Inputs: in, BuildArgs: p.BuildArgs, Platforms: p.Platforms(),
		Bases: bases, SourceDateEpoch: p.Epoch, Network: network,
	}, nil
}

// baseDigest is the digest a base stood for in the build for platform.
func baseDigest(c *cache.Cache, b pkgbuild.Base, platform v1.Platform) (string, error) {
	if b.Pkg == nil {
		return b.Digest.String(), nil // pinned by the tag's inputs
	}
	if b.BuildPlatformOnly {
		// A builder-side tool image (a cross toolchain): BuildKit took
		// the builder's platform from this index.
		desc, ok, err := c.Resolve(b.Pkg.Ref())
		if err != nil || !ok {
			return "", fmt.Errorf("base %s: not in the cache (%v)", b.Pkg.Ref(), err)
		}
		return desc.Digest.String(), nil
	}
	img, err := c.Image(b.Pkg.Ref(), platform)
	if err != nil {
		return "", fmt.Errorf("base %s for %s: %w", b.Pkg.Ref(), platform, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// PredicateTypeFor maps the short names `cosign attest --type` knows
// (spdxjson, slsaprovenance1) to their predicate type URIs; any other
// name is taken as a URI already.
func PredicateTypeFor(name string) string {
	switch name {
	case "spdxjson", "spdx":
		return SPDXPredicateType
	case "slsaprovenance1", "slsaprovenance":
		return SLSAProvenanceType
	}
	return name
}
