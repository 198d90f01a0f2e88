package main

import (
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	"github.com/spf13/cobra"
)

func newBuilderCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "builder",
		Short: "Manage the embedded local buildkitd",
		Long: `lkpkg starts a local buildkitd (runc worker, overlayfs, state under
~/.cache/lkpkg/buildkit) the first time a build needs it, and reuses it
afterwards. These commands start, stop, inspect and clean it explicitly.
It needs root, runc and overlayfs; bin/buildkitd is built by "make".`,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "start",
			Short: "Start the local buildkitd (no-op if it is running)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				addr, err := g.local().Ensure(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), addr)
				return nil
			},
		},
		newBuilderStopCmd(g),
		&cobra.Command{
			Use:   "status",
			Short: "Show whether the local buildkitd runs, its address and platforms",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				l := g.local()
				st, err := l.Status(cmd.Context())
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if !st.Running {
					fmt.Fprintf(out, "not running (state %s)\n", l.StateDir)
					return nil
				}
				fmt.Fprintf(out, "running\naddress:   %s\npid:       %d\nstate:     %s\n", st.Address, st.PID, l.StateDir)
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
			},
		},
		newBuilderPruneCmd(g),
	)
	return cmd
}

func newBuilderStopCmd(g *globalFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop the local buildkitd (refused while other lkpkg processes build on it, unless --force)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l := g.local()
			stop := l.Stop
			if force {
				stop = l.ForceStop
			}
			was, err := stop(cmd.Context())
			if err != nil {
				return err
			}
			if was {
				fmt.Fprintln(cmd.OutOrStdout(), "stopped")
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "not running")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "stop it even while builds are running on it")
	return cmd
}

func newBuilderPruneCmd(g *globalFlags) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Free the local buildkitd's build cache",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l := g.local()
			prune := l.Prune
			if force {
				prune = l.ForcePrune
			}
			freed, err := prune(cmd.Context(), all)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "freed %.1f MB\n", float64(freed)/1e6)
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "remove everything, not only unused intermediate results")
	cmd.Flags().BoolVar(&force, "force", false, "with --all: prune even while builds are running")
	return cmd
}
