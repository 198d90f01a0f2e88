package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at link time by the Makefile.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "lkpkg:", err)
		os.Exit(1)
	}
}

// globalFlags are shared by every command.
type globalFlags struct {
	cacheDir   string
	builderDir string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "lkpkg",
		Short: "Build, cache, sign and assemble LinuxKit packages reproducibly, without a Docker daemon",
		Long: `lkpkg builds LinuxKit-style packages (a directory with build.yml and a
Dockerfile) through BuildKit, reproducibly and offline, into a local OCI
image cache.

With no --builder and no BUILDKIT_HOST, lkpkg starts a local buildkitd
daemon once (state under ~/.cache/lkpkg/buildkit) and reuses it; "lkpkg
builder" manages that daemon.

Environment:
` + environmentHelp(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.cacheDir, "cache", "", "local image cache (an OCI layout) (default $LKPKG_CACHE or ~/.cache/lkpkg/oci)")
	root.PersistentFlags().StringVar(&g.builderDir, "builder-state", "", "state directory of the embedded local buildkitd daemon (default $LKPKG_BUILDER_DIR or ~/.cache/lkpkg/buildkit)")
	root.AddCommand(
		group(&cobra.Command{
			Use:   "pkg",
			Short: "Build packages and show their content-addressed tags",
		}, newPkgBuildCmd(g), newPkgShowTagCmd(g), newPkgPushCmd(g)),
		// The embedded local buildkitd daemon (buildkitd.Daemon). Remote
		// daemons are chosen per build with --builder.
		group(&cobra.Command{
			Use:   "builder",
			Short: "Manage the embedded local buildkitd daemon",
			Long: `lkpkg starts a local buildkitd daemon (runc worker, overlayfs, state under
~/.cache/lkpkg/buildkit) the first time a build needs it, and reuses it
afterwards. These commands start, stop, inspect and clean it explicitly.
It needs root, runc and overlayfs; bin/buildkitd is built by "make".
Remote buildkitd daemons are not managed here: "pkg build --builder" names them.`,
		}, newBuilderStartCmd(g), newBuilderStopCmd(g), newBuilderStatusCmd(g), newBuilderPruneCmd(g)),
		group(&cobra.Command{
			Use:   "cache",
			Short: "List, remove, export and import images of the local cache",
			Long: `The local cache is an OCI image layout (default ~/.cache/lkpkg/oci): one
index per package tag, named org/image:tag, and one manifest per platform,
named org/image:tag-ARCH. Writers lock it; index.json is replaced
atomically, so a killed build never leaves it half-written.`,
		}, newCacheLsCmd(g), newCacheRmCmd(g), newCacheExportCmd(g), newCacheImportCmd(g), newCacheVerifyCmd(g), newCachePruneCmd(g)),
		newMirrorCmd(g), newPushCmd(g), newSignCmd(), newVerifyCmd(), newKeysCmd(), newBuildCmd(g), newRunCmd(), newVersionCmd())
	return root
}

// group is cmd holding subcommands and doing nothing itself.
func group(cmd *cobra.Command, subcommands ...*cobra.Command) *cobra.Command {
	cmd.AddCommand(subcommands...)
	return cmd
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print lkpkg's version and build format",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "lkpkg %s (%s)\n", version, buildFormat())
			return nil
		},
	}
}
