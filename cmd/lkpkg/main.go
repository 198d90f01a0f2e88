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
	root.AddCommand(newPkgCmd(g), newBuilderCmd(g), newCacheCmd(g), newMirrorCmd(g), newPushCmd(g), newSignCmd(), newVerifyCmd(), newKeysCmd(), newBuildCmd(g), newRunCmd(), newVersionCmd())
	return root
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
