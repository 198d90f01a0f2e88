package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/pkgbuild"
	"github.com/lkpkg/lkpkg/pkgbuild/buildkitd"
)

// splitList splits comma-separated flag values into their non-empty,
// trimmed items ("a, b,,c" -> a b c).
func splitList(values ...string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func buildFormat() string { return pkgbuild.BuildFormat }

func (g *globalFlags) openCache() (*cache.Cache, error) {
	dir, err := userCacheDir(g.cacheDir, cache.DirEnv, "oci")
	if err != nil {
		return nil, fmt.Errorf("no cache directory: set $HOME, $XDG_CACHE_HOME or $%s, or pass --cache", cache.DirEnv)
	}
	return cache.Open(dir)
}

// daemon is the embedded local buildkitd. With no user cache directory its
// StateDir stays empty: a build that needs no local daemon (every platform
// on --builder) still runs, and one that does fails saying what to set.
func (g *globalFlags) daemon() *buildkitd.Daemon {
	dir, _ := userCacheDir(g.builderDir, buildkitd.StateDirEnv, "buildkit")
	return &buildkitd.Daemon{StateDir: dir, Binary: os.Getenv(buildkitd.BinaryEnv), Log: os.Stderr}
}

// withPackages opens the cache and loads the packages named by the
// arguments before running a pkg command.
func (g *globalFlags) withPackages(lf *loadFlags, run func(cmd *cobra.Command, c *cache.Cache, pkgs []*pkgbuild.Package) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := g.openCache()
		if err != nil {
			return err
		}
		opts := lf.options(cmd)
		opts.Cache = c
		pkgs, err := pkgbuild.NewLoader(opts).Load(args...)
		if err != nil {
			return err
		}
		return run(cmd, c, pkgs)
	}
}
