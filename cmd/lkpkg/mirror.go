package main

import (
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/lkpkg/lkpkg/assemble/layer"
	"github.com/lkpkg/lkpkg/mirror"
)

func newMirrorCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mirror",
		Short: "Pinned, verified, offline mirrors of Alpine, Debian and Go sources",
		Long: `A mirror is a directory with mirror.yml: upstream repositories, trusted
keys, arches and the packages wanted. lkpkg resolves them against the
signed upstream indexes the way apk-tools does and pins the closure in
mirror.lock (checksums, not URLs). It then fetches exactly those packages,
verifying each one, and packs a signed offline repository plus a base
root filesystem as a reproducible OCI image that package builds use as
their FROM, with the network off.

mirror.yml may also name Debian archives (debian:) and Go toolchains and
modules (go:); see the README's "Debian and Go sources".

--upstream (or $LKPKG_APK_UPSTREAM) points at another copy of the Alpine
upstream, and --debian-upstream (or $LKPKG_DEB_UPSTREAM) at another copy of
the Debian pool (http://, https:// or file://), without changing the lock.`,
	}
	var opts mirror.Options
	cmd.PersistentFlags().StringVar(&opts.APKUpstream, "upstream", "", "upstream base URL to use instead of mirror.yml's (default $LKPKG_APK_UPSTREAM)")
	cmd.PersistentFlags().StringVar(&opts.DebianUpstream, "debian-upstream", "", "fetch every locked .deb from this copy of the archive instead of debian.sources (default $LKPKG_DEB_UPSTREAM)")
	cmd.PersistentFlags().StringVar(&opts.APKDownloadDir, "download-cache", "", "verified package downloads (default $LKPKG_APK_CACHE or ~/.cache/lkpkg/apk)")
	cmd.PersistentFlags().IntVarP(&opts.Jobs, "jobs", "j", 4, "parallel downloads")
	cmd.AddCommand(newMirrorLockCmd(&opts), newMirrorFetchCmd(g, &opts), newMirrorBuildCmd(g, &opts), newMirrorKeygenCmd())
	return cmd
}

// Environment variables of the mirror commands (and of mirror packages
// built by `lkpkg pkg build`); a flag wins over its variable.
const (
	apkUpstreamEnv      = "LKPKG_APK_UPSTREAM"       // --upstream, --apk-upstream
	debUpstreamEnv      = "LKPKG_DEB_UPSTREAM"       // --debian-upstream
	mirrorSigningKeyEnv = "LKPKG_MIRROR_SIGNING_KEY" // --signing-key, --mirror-signing-key
	apkCacheEnv         = "LKPKG_APK_CACHE"          // --download-cache; else ~/.cache/lkpkg/apk
	debCacheEnv         = "LKPKG_DEB_CACHE"          // else ~/.cache/lkpkg/deb
	goCacheEnv          = "LKPKG_GOMOD_CACHE"        // else ~/.cache/lkpkg/gomod
)

// mirrorOptions is opts with what no flag set taken from the environment
// and the user's cache directory: the mirror library reads neither.
func mirrorOptions(opts mirror.Options, progress io.Writer) mirror.Options {
	fromEnv := func(v *string, env string) {
		if *v == "" {
			*v = os.Getenv(env)
		}
	}
	fromEnv(&opts.APKUpstream, apkUpstreamEnv)
	fromEnv(&opts.DebianUpstream, debUpstreamEnv)
	fromEnv(&opts.APKSigningKey, mirrorSigningKeyEnv)
	// With no user cache directory the path stays "": the library then
	// refuses to fetch rather than use a shared one.
	cacheDir := func(v *string, env, sub string) {
		*v, _ = userCacheDir(*v, env, sub)
	}
	cacheDir(&opts.APKDownloadDir, apkCacheEnv, "apk")
	cacheDir(&opts.DebDownloadDir, debCacheEnv, "deb")
	cacheDir(&opts.GoDownloadDir, goCacheEnv, "gomod")
	if opts.Progress == nil {
		opts.Progress = progress
	}
	return opts
}

// withMirror loads the mirror named by the command's argument (default:
// the current directory) and completes opts before running a mirror
// command.
func withMirror(opts *mirror.Options, run func(cmd *cobra.Command, c *mirror.Config, o mirror.Options) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := loadMirror(args)
		if err != nil {
			return err
		}
		return run(cmd, c, mirrorOptions(*opts, cmd.ErrOrStderr()))
	}
}

func loadMirror(args []string) (*mirror.Config, error) {
	dir := "."
	if len(args) > 0 {
		dir = args[0]
	}
	return mirror.Load(dir)
}

func newMirrorLockCmd(opts *mirror.Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lock [DIR|mirror.yml]",
		Short: "Resolve mirror.yml against the signed upstream indexes and write mirror.lock",
		Long: `lock resolves every section of mirror.yml and writes mirror.lock, sorted, so
the same inputs give a byte-identical lock:

  Alpine   every repository's APKINDEX.tar.gz for every arch is refused unless
           signed by a trusted key, and unless its DESCRIPTION names the
           release of its path (v3.19/... needs "v3.19.*") and every package
           is for the arch of its path; the wanted packages are resolved as
           apk-tools does (dependencies, so:/cmd:/pc: provides, versions,
           provider priorities, conflicts, install_if). Pinned: name, version,
           arch, repository, checksum, size.
  debian:  dists/SUITE/InRelease is refused unless clearsigned by a key of
           debian.keyring (unexpired, before Valid-Until); Packages.xz is
           checked against its hash in the InRelease before it is parsed; the
           closure is resolved as apt does (Depends/Pre-Depends, alternatives,
           versions, Provides, Multi-Arch). Pinned: name, version, arch,
           suite, pool filename, SHA-256, size.
  go:      toolchains and module closures are looked up in the Go checksum
           database through the proxy. Pinned: go.sum h1: hashes.

A lock that would pin an Alpine package at an older version than the
current mirror.lock, or a Debian InRelease dated before the one it was
made from, is refused (a replayed upstream) unless --allow-older-release.`,
		Example: `  lkpkg mirror lock pkgs/alpine
  lkpkg mirror lock --upstream file:///srv/alpine pkgs/alpine
  lkpkg mirror lock pkgs/toolchain`,
		Args: cobra.MaximumNArgs(1),
		RunE: withMirror(opts, func(cmd *cobra.Command, c *mirror.Config, o mirror.Options) error {
			lock, err := mirror.LockAndWrite(cmd.Context(), c, o)
			if err != nil {
				return err
			}
			for _, a := range c.Arches {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d packages locked\n", a, len(lock.Packages[a]))
			}
			if lock.Debian != nil {
				for _, a := range c.Debian.Arches {
					fmt.Fprintf(cmd.OutOrStdout(), "debian %s: %d packages locked\n", a, len(lock.Debian.Packages[a]))
				}
			}
			if lock.Go != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "go: %d toolchains, %d modules locked\n", len(lock.Go.Toolchains), len(lock.Go.Modules))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", c.LockFile())
			return nil
		}),
	}
	cmd.Flags().BoolVar(&opts.AllowOlderRelease, "allow-older-release", false, "accept a Debian InRelease dated before the one the current lock was made from, or Alpine packages at older versions than it pins (refused by default: a replayed, older release or index)")
	return cmd
}

func newMirrorFetchCmd(g *globalFlags, opts *mirror.Options) *cobra.Command {
	var fromImage string
	cmd := &cobra.Command{
		Use:   "fetch [DIR|mirror.yml]",
		Short: "Download exactly the locked packages, verifying size, checksum and signature",
		Long: `fetch downloads what mirror.lock names into the download caches
(~/.cache/lkpkg/{apk,deb,gomod}, or $LKPKG_APK_CACHE, $LKPKG_DEB_CACHE,
$LKPKG_GOMOD_CACHE) and verifies each file: .apk size, checksum, signature
and data hash; .deb size and SHA-256; Go module zips and go.mod files
against their h1: hashes. A file already cached and valid needs no network,
so a lock keeps working after upstream has moved on.

A mirror image keeps every .deb it was built from (/mirror/debian). When the
archive no longer serves a locked version and the download cache is gone,
--from-image REF takes the .debs out of that image (from the local cache:
lkpkg cache import it first) and verifies each against the lock, as any
download is.`,
		Example: `  lkpkg mirror fetch pkgs/toolchain
  lkpkg mirror fetch --from-image lkpkg/toolchain:<tag> pkgs/toolchain`,
		Args: cobra.MaximumNArgs(1),
		RunE: withMirror(opts, func(cmd *cobra.Command, c *mirror.Config, o mirror.Options) error {
			if fromImage != "" {
				up, cleanup, err := debsFromImage(g, fromImage, c)
				defer cleanup()
				if err != nil {
					return err
				}
				o.DebianUpstream = up
			}
			_, _, st, err := mirror.Fetch(cmd.Context(), c, o)
			if err != nil {
				return err
			}
			mbps := 0.0
			if s := st.Duration.Seconds(); s > 0 {
				mbps = float64(st.Bytes) / 1e6 / s
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d packages verified, %d downloaded (%.1f MB, %.1f MB/s) in %s\n", st.Packages, st.Downloaded, float64(st.Bytes)/1e6, mbps, st.Duration.Round(1e6))
			return nil
		}),
	}
	cmd.Flags().StringVar(&fromImage, "from-image", "", "take the locked .debs from this mirror image in the local cache (its /mirror/debian)")
	return cmd
}

// debsFromImage points opts at the .debs of a cached mirror image
// (unpacked digest-checked and confined to a temporary directory: see
// assemble/layer).
func debsFromImage(g *globalFlags, ref string, c *mirror.Config) (upstream string, cleanup func(), err error) {
	store, err := g.openCache()
	if err != nil {
		return "", func() {}, err
	}
	return mirror.DebsFromImage(c, store, ref, layerUnpacker{})
}

func newMirrorBuildCmd(g *globalFlags, opts *mirror.Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "build [DIR|mirror.yml]",
		Short: "Fetch, write the signed offline repository and store the mirror image in the cache",
		Long: `build fetches (if needed) and verifies the locked packages, writes an offline
repository per arch (ARCH/*.apk and an APKINDEX.tar.gz signed with the
mirror's own key) and stores it with the base root filesystem as a
multi-arch OCI image org/image:tag in the local cache. The tag hashes the
lock, the root filesystems and the mirror's public key; the image is
byte-for-byte reproducible. Inside a build FROM it, ` + "`apk add --no-network PKG`" + `
installs with signature checks on.`,
		Args: cobra.MaximumNArgs(1),
		RunE: withMirror(opts, func(cmd *cobra.Command, c *mirror.Config, o mirror.Options) error {
			store, err := g.openCache()
			if err != nil {
				return err
			}
			ref, desc, err := mirror.Build(cmd.Context(), c, o, store)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", ref, desc.Digest)
			return nil
		}),
	}
	cmd.Flags().StringVar(&opts.APKSigningKey, "signing-key", "", "the mirror's private key (default $LKPKG_MIRROR_SIGNING_KEY, else mirror.yml's signing-key without .pub)")
	return cmd
}

func newMirrorKeygenCmd() *cobra.Command {
	var dir string
	var bits int
	cmd := &cobra.Command{
		Use:   "keygen NAME",
		Short: "Make the mirror's signing key pair (NAME-XXXXXXXX.rsa and .rsa.pub)",
		Long: `keygen writes an RSA key pair for signing the mirror's APKINDEX. Commit the
.rsa.pub and name it as signing-key in mirror.yml; keep the .rsa private
(pass it with --signing-key or $LKPKG_MIRROR_SIGNING_KEY when building).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := mirror.Keygen(dir, args[0], bits)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), pub)
			return nil
		},
	}
	cmd.Flags().StringVarP(&dir, "dir", "d", ".", "directory to write the key pair to")
	cmd.Flags().IntVar(&bits, "bits", 4096, "RSA key size")
	return cmd
}

// layerUnpacker gives mirror.DebsFromImage assemble/layer's checked unpack.
type layerUnpacker struct{}

func (layerUnpacker) Unpack(dir string, img v1.Image) error {
	return layer.Unpack(dir, img, layer.Options{})
}

func (layerUnpacker) MoveFiles(dir, from, to string) error { return layer.MoveFiles(dir, from, to) }
