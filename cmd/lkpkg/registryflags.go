package main

import (
	"github.com/spf13/cobra"

	"github.com/lkpkg/lkpkg/registry"
)

// registryFlags is the one definition of how a command reaches
// registries (as crane's options do it): every command that talks to a
// registry embeds it and calls AddFlags once.
type registryFlags struct {
	insecure bool
}

// AddFlags registers --insecure-registry on cmd.
func (f *registryFlags) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.insecure, "insecure-registry", false, "use plain HTTP: only allowed for a registry on loopback (localhost, 127.0.0.0/8, ::1)")
}

// Options is the registry.Options the flags stand for.
func (f *registryFlags) Options() registry.Options { return registry.Options{Insecure: f.insecure} }
