package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/mirror"
	"github.com/lkpkg/lkpkg/pkgbuild"
	"github.com/lkpkg/lkpkg/pkgbuild/buildkitd"
)

type loadFlags struct {
	org   string
	epoch int64
}

func (f *loadFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.org, "org", "", "override the `org` of every package (e.g. your registry namespace)")
	cmd.Flags().Int64Var(&f.epoch, "source-date-epoch", -1, "clamp every timestamp to this Unix time (default: build.yml `source-date-epoch`, else 1704067200)")
}

func (f *loadFlags) options(cmd *cobra.Command) pkgbuild.LoadOptions {
	o := pkgbuild.LoadOptions{Org: f.org}
	if cmd.Flags().Changed("source-date-epoch") {
		e := f.epoch
		o.SourceDateEpoch = &e
	}
	return o
}

func newPkgShowTagCmd(g *globalFlags) *cobra.Command {
	var lf loadFlags
	var showInputs bool
	cmd := &cobra.Command{
		Use:   "show-tag DIR...",
		Short: "Print the image reference (org/image:tag) of packages, without building",
		Long: `show-tag prints org/image:tag for each package. The tag is a hash of every
input of the build: the files sent as build context (after .dockerignore,
contents and modes), extra-sources, build args, platforms, the digests of
the base images and the build format. It needs no git, no network and no
builder. DIR/... names every package below DIR.`,
		Example: "  lkpkg pkg show-tag pkgs/dhcpcd\n  lkpkg pkg show-tag --inputs pkgs/...",
		Args:    cobra.MinimumNArgs(1),
		RunE: g.withPackages(&lf, func(cmd *cobra.Command, _ *cache.Cache, pkgs []*pkgbuild.Package) error {
			out := cmd.OutOrStdout()
			for _, p := range pkgs {
				if showInputs {
					in, err := p.Inputs()
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "# %s (%s)\n%s", p.Ref(), p.Dir, in)
					continue
				}
				fmt.Fprintln(out, p.Ref())
			}
			return nil
		}),
	}
	lf.register(cmd)
	cmd.Flags().BoolVar(&showInputs, "inputs", false, "print the canonical list of inputs the tag hashes")
	return cmd
}

// builderFlags select the buildkitd daemons builds run on (--builder and
// its TLS settings).
type builderFlags struct {
	spec          string
	tls           buildkitd.TLS
	allowMismatch bool
}

func (f *builderFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.spec, "builder", "", "buildkitd to use: ADDR for all platforms, or PLATFORM=ADDR,... (e.g. linux/arm64=tcp://arm:1234,linux/amd64=unix:///run/buildkit/buildkitd.sock); platforms not listed use the embedded local buildkitd (default $BUILDKIT_HOST, else the embedded one)")
	cmd.Flags().StringVar(&f.tls.CACert, "builder-tlscacert", "", "CA certificate to verify remote buildkitd daemons (--builder)")
	cmd.Flags().StringVar(&f.tls.Cert, "builder-tlscert", "", "client certificate for remote buildkitd daemons")
	cmd.Flags().StringVar(&f.tls.Key, "builder-tlskey", "", "client key for remote buildkitd daemons")
	cmd.Flags().StringVar(&f.tls.ServerName, "builder-tlsservername", "", "server name expected in remote buildkitd daemons' certificates")
	cmd.Flags().BoolVar(&f.allowMismatch, "allow-builder-version-mismatch", false, "use buildkitd daemons (local or remote) whose BuildKit differs from the pinned version (their images may not reproduce)")
}

// daemons turns the flags into the daemons a build runs on.
func (f *builderFlags) daemons(g *globalFlags) (*pkgbuild.Daemons, error) {
	spec := f.spec
	if spec == "" {
		spec = os.Getenv(buildkitHostEnv)
	}
	m, err := buildkitd.ParseMapping(spec)
	if err != nil {
		return nil, fmt.Errorf("--builder: %w", err)
	}
	local := g.daemon()
	local.AllowVersionMismatch = f.allowMismatch
	return &pkgbuild.Daemons{Mapping: m, TLS: f.tls, Local: local, AllowVersionMismatch: f.allowMismatch}, nil
}

func newPkgBuildCmd(g *globalFlags) *cobra.Command {
	var (
		lf        loadFlags
		bf        builderFlags
		opts      pkgbuild.Options
		platforms string
		jobs      int
		verify    bool
		mopts     mirror.Options
		push      bool
		pf        publishFlags
		sf        signFlags
	)
	cmd := &cobra.Command{
		Use:   "build DIR...",
		Short: "Build packages through BuildKit into the local cache",
		Long: `build builds each package (a directory with build.yml and a Dockerfile) for
its arches through BuildKit and stores a multi-arch OCI index in the local
cache as org/image:tag, plus org/image:tag-ARCH per platform.

Packages are built in dependency order (a build arg set to @lkt:pkg:DIR
names another package; a directory with mirror.yml is a mirror package,
built by "lkpkg mirror build"), at most --jobs at a time; a failure stops only
what depends on it. A package whose tag is already in the cache is not
rebuilt unless --force (which rebuilds it). Builds run with network off unless build.yml says
network: true, never pull images (bases come from the tree or the cache),
and are reproducible: timestamps are clamped to SOURCE_DATE_EPOCH.`,
		Example: `  lkpkg pkg build pkgs/dhcpcd
  lkpkg pkg build --platforms linux/amd64 pkgs/...
  lkpkg pkg build --verify-reproducible pkgs/ca-certificates
  lkpkg pkg build --builder linux/arm64=tcp://arm-builder:1234 pkgs/...`,
		Args: cobra.MinimumNArgs(1),
		RunE: g.withPackages(&lf, func(cmd *cobra.Command, c *cache.Cache, pkgs []*pkgbuild.Package) error {
			opts.Platforms = append(opts.Platforms, splitList(platforms)...)
			bs, err := bf.daemons(g)
			if err != nil {
				return err
			}
			defer bs.Close()
			opts.Out = cmd.ErrOrStderr()
			b := &pkgbuild.Scheduler{Cache: c, Daemons: bs, Opts: opts, Mirror: mirrorOptions(mopts, nil)}
			// Signing problems are found before building, not after.
			if sf.sign && !push {
				return errors.New("--sign signs what is pushed: add --push")
			}
			p, err := newPublisher(cmd, c, &pf, &sf)
			if err != nil {
				return err
			}
			if err := runBuild(cmd, b, pkgs, jobs, verify); err != nil {
				return err
			}
			if !push {
				return nil
			}
			return p.publishPackages(cmd.Context(), pkgs)
		}),
	}
	lf.register(cmd)
	bf.register(cmd)
	cmd.Flags().BoolVar(&opts.Rebuild, "force", false, "rebuild packages whose tag is already in the cache")
	cmd.Flags().BoolVar(&opts.NoCache, "no-cache", false, "do not use BuildKit's build cache")
	cmd.Flags().StringVar(&platforms, "platforms", "", "comma-separated platforms to build, a subset of each package's arches (default: all of them)")
	cmd.Flags().StringVar(&opts.Progress, "progress", "auto", "progress output: auto, plain, tty, quiet or rawjson (as BuildKit shows it)")
	cmd.Flags().IntVarP(&jobs, "jobs", "j", 2, "packages built at the same time")
	cmd.Flags().BoolVar(&verify, "verify-reproducible", false, "after building, build again without any cache and fail if any digest differs")
	cmd.Flags().BoolVar(&push, "push", false, "after building, push each package to org/image:tag (see pkg push)")
	pf.register(cmd, "force-release")
	sf.register(cmd, true)
	cmd.Flags().StringVar(&mopts.APKUpstream, "apk-upstream", "", "for mirror packages (mirror.yml): upstream to fetch locked packages from instead of mirror.yml's (default $LKPKG_APK_UPSTREAM)")
	cmd.Flags().StringVar(&mopts.APKSigningKey, "mirror-signing-key", "", "for mirror packages: the mirror's private key (default $LKPKG_MIRROR_SIGNING_KEY, else signing-key without .pub)")
	return cmd
}

// runBuild builds the tree, printing each outcome as it comes, then, with
// verify, proves every package reproducible.
func runBuild(cmd *cobra.Command, b *pkgbuild.Scheduler, pkgs []*pkgbuild.Package, jobs int, verify bool) error {
	out, log := cmd.OutOrStdout(), cmd.ErrOrStderr()
	n, err := b.BuildTree(cmd.Context(), pkgs, jobs, func(o pkgbuild.Outcome) {
		switch {
		case o.Err != nil:
			fmt.Fprintf(log, "FAILED %s (%s): %v\n", o.Pkg.Ref(), o.Pkg.Dir, o.Err)
		case o.Result.Skipped:
			fmt.Fprintf(out, "%s %s up to date\n", o.Result.Ref, o.Result.Digest)
		default:
			fmt.Fprintf(out, "%s %s built for %s\n", o.Result.Ref, o.Result.Digest, strings.Join(o.Result.Platforms, ","))
		}
	})
	fmt.Fprintf(log, "%d built, %d up to date, %d failed\n", n.Built, n.UpToDate, n.Failed)
	if err != nil || !verify {
		return err
	}
	return b.VerifyTree(cmd.Context(), pkgs, func(p *pkgbuild.Package) {
		fmt.Fprintf(out, "%s reproducible: a build without cache gave the same digests\n", p.Ref())
	})
}
