package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/containerd/platforms"
	"github.com/spf13/cobra"

	"github.com/lkpkg/lkpkg/pkgbuild/buildkitd"
)

// daemonCmd is a `lkpkg builder` subcommand without arguments: run acts
// on the local daemon and prints to out.
func daemonCmd(g *globalFlags, use, short string, run func(ctx context.Context, d *buildkitd.Daemon, out io.Writer) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), g.daemon(), cmd.OutOrStdout())
		},
	}
}

func newBuilderStartCmd(g *globalFlags) *cobra.Command {
	return daemonCmd(g, "start", "Start the local buildkitd (no-op if it is running)",
		func(ctx context.Context, d *buildkitd.Daemon, out io.Writer) error {
			addr, err := d.Ensure(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, addr)
			return nil
		})
}

func newBuilderStatusCmd(g *globalFlags) *cobra.Command {
	return daemonCmd(g, "status", "Show whether the local buildkitd runs, its address and platforms",
		func(ctx context.Context, d *buildkitd.Daemon, out io.Writer) error {
			st, err := d.Status(ctx)
			if err != nil {
				return err
			}
			if !st.Running {
				fmt.Fprintf(out, "not running (state %s)\n", d.StateDir)
				return nil
			}
			fmt.Fprintf(out, "running\naddress:   %s\npid:       %d\nstate:     %s\n", st.Address, st.PID, d.StateDir)
			if st.Version != "" {
				fmt.Fprintf(out, "buildkit:  %s\n", st.Version)
			}
			for _, w := range st.Workers {
				var ps []string
				for _, p := range w.Platforms {
					ps = append(ps, platforms.Format(p))
				}
				fmt.Fprintf(out, "worker %s: %s\n", w.ID, strings.Join(ps, ", "))
			}
			return nil
		})
}

func newBuilderStopCmd(g *globalFlags) *cobra.Command {
	var opts buildkitd.StopOptions
	cmd := daemonCmd(g, "stop", "Stop the local buildkitd (refused while lkpkg builds use it, unless --force)",
		func(ctx context.Context, d *buildkitd.Daemon, out io.Writer) error {
			was, err := d.Stop(ctx, opts)
			if err != nil {
				return err
			}
			if was {
				fmt.Fprintln(out, "stopped")
			} else {
				fmt.Fprintln(out, "not running")
			}
			return nil
		})
	cmd.Flags().BoolVar(&opts.WhileInUse, "force", false, "stop it even while lkpkg builds use it (those builds fail)")
	return cmd
}

func newBuilderPruneCmd(g *globalFlags) *cobra.Command {
	var opts buildkitd.PruneOptions
	cmd := daemonCmd(g, "prune", "Free the local buildkitd's build cache",
		func(ctx context.Context, d *buildkitd.Daemon, out io.Writer) error {
			freed, err := d.Prune(ctx, opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "freed %.1f MB\n", float64(freed)/1e6)
			return nil
		})
	cmd.Flags().BoolVar(&opts.All, "all", false, "remove everything, not only unused intermediate results")
	cmd.Flags().BoolVar(&opts.WhileInUse, "force", false, "with --all: prune even while lkpkg builds use it (those builds may fail)")
	return cmd
}
