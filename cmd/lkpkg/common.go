package main

import (
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/pkgbuild"
	"github.com/lkpkg/lkpkg/pkgbuild/buildkitd"
)

func buildFormat() string { return pkgbuild.BuildFormat }

func (g *globalFlags) openCache() (*cache.Cache, error) {
	dir := g.cacheDir
	if dir == "" {
		dir = cache.DefaultDir()
	}
	if dir == "" {
		return nil, errors.New("no cache directory: set $HOME, $XDG_CACHE_HOME or $LKPKG_CACHE, or pass --cache")
	}
	return cache.Open(dir)
}

func (g *globalFlags) local() *buildkitd.Local {
	dir := g.builderDir
	if dir == "" {
		dir = buildkitd.DefaultStateDir()
	}
	return &buildkitd.Local{StateDir: dir, Log: os.Stderr}
}

// loadPackages opens the cache and loads the packages named by args.
func (g *globalFlags) loadPackages(cmd *cobra.Command, lf *loadFlags, args []string) (*cache.Cache, []*pkgbuild.Package, error) {
	c, err := g.openCache()
	if err != nil {
		return nil, nil, err
	}
	opts := lf.options(cmd)
	opts.Cache = c
	pkgs, err := pkgbuild.NewLoader(opts).Load(args...)
	return c, pkgs, err
}
