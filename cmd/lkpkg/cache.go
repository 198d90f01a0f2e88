package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/internal/units"
)

func newCacheLsCmd(g *globalFlags) *cobra.Command {
	return cacheCmd(g, "ls", "List cached images", cobra.NoArgs,
		func(cmd *cobra.Command, c *cache.Cache, _ []string) error {
			entries, err := c.List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REFERENCE\tDIGEST\tPLATFORM")
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Ref, e.Descriptor.Digest, c.PlatformLabel(e.Descriptor))
			}
			return tw.Flush()
		})
}

func newCacheRmCmd(g *globalFlags) *cobra.Command {
	return cacheCmd(g, "rm REF...", "Remove images (and their per-arch entries) and free unreferenced blobs", cobra.MinimumNArgs(1),
		func(cmd *cobra.Command, c *cache.Cache, args []string) error {
			return c.Remove(cmd.Context(), args...)
		})
}

func newCacheExportCmd(g *globalFlags) *cobra.Command {
	var format, output, platform string
	cmd := &cobra.Command{
		Use:   "export REF...",
		Short: "Write images as an OCI layout tar or a docker-archive tar",
		Example: `  lkpkg cache export -o dhcpcd.tar lkpkg/dhcpcd:<tag>
  lkpkg cache export --format docker --platform linux/arm64 -o - lkpkg/dhcpcd:<tag> | docker load`,
		Args: cobra.MinimumNArgs(1),
		RunE: g.withCache(func(cmd *cobra.Command, c *cache.Cache, args []string) error {
			var plat *v1.Platform
			if platform != "" {
				var err error
				if plat, err = v1.ParsePlatform(platform); err != nil {
					return fmt.Errorf("--platform: %w", err)
				}
			}
			if output == "-" {
				return c.Export(cmd.Context(), cmd.OutOrStdout(), format, args, plat)
			}
			return c.ExportFile(cmd.Context(), output, format, args, plat)
		}),
	}
	cmd.Flags().StringVar(&format, "format", "oci", "oci (an OCI image layout tar, all platforms) or docker (docker-archive, one platform)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write (- for stdout); required")
	cmd.Flags().StringVar(&platform, "platform", "", "platform for --format docker (default: this machine's)")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newCacheImportCmd(g *globalFlags) *cobra.Command {
	var opts cache.ImportOptions
	maxSize := fmt.Sprintf("%dG", cache.DefaultImportMaxBytes>>30)
	cmd := &cobra.Command{
		Use:   "import TAR",
		Short: "Add the named images of an OCI layout tar (every blob verified by digest)",
		Example: `  lkpkg cache import dhcpcd.tar
  buildctl build ... --output type=oci,dest=- | lkpkg cache import -`,
		Args: cobra.ExactArgs(1),
		RunE: g.withCache(func(cmd *cobra.Command, c *cache.Cache, args []string) error {
			n, err := units.ParseSize(maxSize)
			if err != nil {
				return fmt.Errorf("--max-size: %w", err)
			}
			opts.MaxBytes = n
			var r io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			refs, err := c.Import(cmd.Context(), r, opts)
			switch {
			case errors.Is(err, cache.ErrRefExists):
				return fmt.Errorf("%w (use --force to replace them)", err)
			case errors.Is(err, cache.ErrImportTooLarge):
				return fmt.Errorf("%w (raise the limit with --max-size)", err)
			}
			if err != nil {
				return err
			}
			for _, ref := range refs {
				fmt.Fprintln(cmd.OutOrStdout(), ref)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&maxSize, "max-size", maxSize, "most bytes of blobs to take from the tar, e.g. 512M or 64G (powers of 1024); a larger tar is refused before the blob that passes it is written")
	cmd.Flags().BoolVar(&opts.ReplaceRefs, "force", false, "replace refs the cache already holds with other content (without it such an import fails and writes nothing)")
	return cmd
}

func newCacheVerifyCmd(g *globalFlags) *cobra.Command {
	return cacheCmd(g, "verify", "Check every blob reachable from the cache's index against its digest", cobra.NoArgs,
		func(cmd *cobra.Command, c *cache.Cache, _ []string) error {
			if err := c.Verify(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return nil
		})
}

func newCachePruneCmd(g *globalFlags) *cobra.Command {
	return cacheCmd(g, "prune", "Delete blobs no image uses and temp files left by killed builds (older than 1 hour)", cobra.NoArgs,
		func(cmd *cobra.Command, c *cache.Cache, _ []string) error {
			freed, err := c.Prune(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "freed %.1f MB\n", float64(freed)/1e6)
			return nil
		})
}

// cacheCmd is a `lkpkg cache` subcommand without flags: run acts on the
// opened cache.
func cacheCmd(g *globalFlags, use, short string, args cobra.PositionalArgs, run func(cmd *cobra.Command, c *cache.Cache, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args, RunE: g.withCache(run)}
}

// withCache opens the cache (--cache, $LKPKG_CACHE or the default) before
// running a cache command.
func (g *globalFlags) withCache(run func(cmd *cobra.Command, c *cache.Cache, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := g.openCache()
		if err != nil {
			return err
		}
		return run(cmd, c, args)
	}
}
