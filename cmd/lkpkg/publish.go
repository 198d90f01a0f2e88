package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/manifest"
	"github.com/lkpkg/lkpkg/pkgbuild"
	"github.com/lkpkg/lkpkg/sign"
	"github.com/lkpkg/lkpkg/sign/attest"
	"github.com/lkpkg/lkpkg/sign/cosign"
	"github.com/lkpkg/lkpkg/sign/notation"
)

// publishFlags are shared by every command that pushes.
type publishFlags struct {
	registryFlags
	release string
	force   bool
	jobs    int
}

func (f *publishFlags) register(cmd *cobra.Command, forceName string) {
	f.AddFlags(cmd)
	cmd.Flags().StringVar(&f.release, "release", "", "also tag the index as this release (e.g. v1.2.0); an existing release tag is never moved to other content unless --"+forceName)
	cmd.Flags().BoolVar(&f.force, forceName, false, "allow --release to move an existing release tag to other content")
	cmd.Flags().IntVar(&f.jobs, "push-jobs", 4, "parallel blob uploads")
}

// signFlags say how to sign.
type signFlags struct {
	sign, noAttest            bool
	cosignKey                 string
	notationKey, notationCert string
	envelope                  string
	needSign                  bool // the command always signs (lkpkg sign)
}

func (f *signFlags) register(cmd *cobra.Command, withSignFlag bool) {
	if withSignFlag {
		cmd.Flags().BoolVar(&f.sign, "sign", false, "sign the index and every per-arch manifest after pushing (needs --key and/or --notation-key/--notation-cert)")
	}
	cmd.Flags().StringVar(&f.cosignKey, "key", os.Getenv("LKPKG_COSIGN_KEY"), "cosign private key (cosign.key; password from $COSIGN_PASSWORD or a prompt) (default $LKPKG_COSIGN_KEY)")
	cmd.Flags().StringVar(&f.notationKey, "notation-key", os.Getenv("LKPKG_NOTATION_KEY"), "notation signing key (PEM) (default $LKPKG_NOTATION_KEY)")
	cmd.Flags().StringVar(&f.notationCert, "notation-cert", os.Getenv("LKPKG_NOTATION_CERT"), "notation signing certificate chain (PEM, leaf first) (default $LKPKG_NOTATION_CERT)")
	cmd.Flags().StringVar(&f.envelope, "envelope", "jws", "notation signature envelope: jws or cose")
	cmd.Flags().BoolVar(&f.noAttest, "no-attest", false, "do not attach the SBOM and provenance attestations (attached and cosign-signed by default)")
}

func (f *signFlags) enabled() bool { return f.sign || f.needSign }

// signers loads the keys named by the flags.
func (f *signFlags) signers(stderr io.Writer) (sign.Signers, error) {
	var s sign.Signers
	if f.cosignKey == "" && f.notationKey == "" {
		return s, errors.New("signing needs --key (cosign) and/or --notation-key with --notation-cert")
	}
	if f.cosignKey != "" {
		pw, err := cosignPassword(stderr, false)
		if err != nil {
			return s, err
		}
		if s.Cosign, err = cosign.LoadSigner(f.cosignKey, pw); err != nil {
			return s, err
		}
	}
	if f.notationKey != "" || f.notationCert != "" {
		if f.notationKey == "" || f.notationCert == "" {
			return s, errors.New("notation signing needs both --notation-key and --notation-cert")
		}
		var err error
		if s.Notation, err = notation.LoadSigner(f.notationKey, f.notationCert); err != nil {
			return s, err
		}
		s.Envelope = f.envelope
	}
	return s, nil
}

// cosignPassword reads $COSIGN_PASSWORD (as the cosign CLI does), else
// prompts on the terminal.
func cosignPassword(stderr io.Writer, confirm bool) ([]byte, error) {
	if pw, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
		return []byte(pw), nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, errors.New("cosign key password: set $COSIGN_PASSWORD (no terminal to ask on)")
	}
	fmt.Fprint(stderr, "cosign key password: ")
	pw, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(stderr)
	if err != nil || !confirm {
		return pw, err
	}
	fmt.Fprint(stderr, "again: ")
	again, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, err
	}
	if string(again) != string(pw) {
		return nil, errors.New("passwords differ")
	}
	return pw, nil
}

// publisher pushes cached images and signs them.
type publisher struct {
	cache   *cache.Cache
	pf      *publishFlags
	sf      *signFlags
	out     io.Writer
	log     io.Writer
	signers sign.Signers // loaded by prepare
}

// newPublisher is cmd's publisher. It checks the signing flags and loads
// the keys once, before any build or push: a wrong password must not leave
// unsigned images behind.
func newPublisher(cmd *cobra.Command, c *cache.Cache, pf *publishFlags, sf *signFlags) (*publisher, error) {
	p := &publisher{cache: c, pf: pf, sf: sf, out: cmd.OutOrStdout(), log: cmd.ErrOrStderr()}
	if !sf.enabled() {
		return p, nil
	}
	var err error
	p.signers, err = sf.signers(p.log)
	return p, err
}

// publishPackages publishes each package's cached image to its own ref.
func (p *publisher) publishPackages(ctx context.Context, pkgs []*pkgbuild.Package) error {
	for _, pkg := range pkgs {
		if err := p.publish(ctx, pkg.Ref(), pkg.Ref(), pkg); err != nil {
			return fmt.Errorf("%s: %w", pkg.Dir, err)
		}
	}
	return nil
}

// publish pushes the cached index localRef to dest, then signs it (and
// attaches attestations) if asked. pkg is the package it was built from,
// nil for a plain cached image (no provenance then).
func (p *publisher) publish(ctx context.Context, localRef, dest string, pkg *pkgbuild.Package) error {
	idx, err := p.cache.ImageIndex(localRef)
	if err != nil {
		return err
	}
	ro := p.pf.Options()
	tag, err := name.NewTag(dest, ro.NameOptions()...)
	if err != nil {
		return fmt.Errorf("%s: %w", dest, err)
	}
	signers := p.signers
	if p.sf.enabled() && signers.Cosign == nil && signers.Notation == nil {
		return errors.New("internal: signers not loaded")
	}
	res, err := manifest.Push(ctx, idx, tag, manifest.PushOptions{
		Registry: ro, Jobs: p.pf.jobs, Progress: p.log, Release: p.pf.release, Force: p.pf.force,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(p.out, "pushed %s@%s (%s; %s uploaded, %d blobs already there)\n", tag, res.Digest, strings.Join(res.Platforms, ", "), mb(res.UploadedBytes), res.ExistingBlobs)
	if !p.sf.enabled() {
		return nil
	}
	var attester sign.Attester
	if !p.sf.noAttest && signers.Cosign != nil {
		attester = sign.DefaultAttester(p.cache, pkg, tag.Context().String())
	}
	ref := tag.Context().Digest(res.Digest.String())
	signed, err := sign.Pushed(ctx, ref, idx, signers, attester, ro)
	if err != nil {
		return err
	}
	printSigned(p.out, ref, signers, signed)
	return nil
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func printSigned(out io.Writer, ref name.Digest, s sign.Signers, signed []sign.Signed) {
	var with []string
	if s.Cosign != nil {
		with = append(with, "cosign "+s.Cosign.Fingerprint())
	}
	if s.Notation != nil {
		with = append(with, "notation ("+s.Envelope+") "+s.Notation.Subject())
	}
	fmt.Fprintf(out, "signed %s with %s (no transparency log: offline signing)\n", ref, strings.Join(with, " and "))
	for _, x := range signed {
		what := x.Platform
		if what == "" {
			what = "index"
		}
		line := fmt.Sprintf("  %s %s", what, x.Digest)
		if len(x.Attestations) > 0 {
			line += " attestations: " + strings.Join(x.Attestations, ", ")
		}
		fmt.Fprintln(out, line)
	}
}

func newPushCmd(g *globalFlags) *cobra.Command {
	var (
		pf publishFlags
		sf signFlags
	)
	cmd := &cobra.Command{
		Use:   "push REF [DEST]",
		Short: "Push a cached image (all its platforms) to a registry, optionally signed",
		Long: `push uploads the cached index REF to DEST (default: REF itself, so
org/image:tag goes to Docker Hub unless org names a registry host):
every per-arch manifest (also tagged TAG-ARCH), then the index LAST, so
the tag never points at an incomplete image. Only missing blobs are sent.
An index already at DEST is merged: platforms pushed from another host
are kept, ours win. Credentials come from docker's config.json and its
credential helpers.`,
		Example: `  lkpkg push lkpkg/dhcpcd:<tag> registry.example.com/lkpkg/dhcpcd:<tag> --sign --key cosign.key
  lkpkg push --insecure-registry lkpkg/hello:<tag> 127.0.0.1:5000/lkpkg/hello:<tag>`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.openCache()
			if err != nil {
				return err
			}
			dest := args[0]
			if len(args) == 2 {
				dest = args[1]
			}
			p, err := newPublisher(cmd, c, &pf, &sf)
			if err != nil {
				return err
			}
			return p.publish(cmd.Context(), args[0], dest, nil)
		},
	}
	pf.register(cmd, "force")
	sf.register(cmd, true)
	return cmd
}

func newPkgPushCmd(g *globalFlags) *cobra.Command {
	var (
		lf loadFlags
		pf publishFlags
		sf signFlags
	)
	cmd := &cobra.Command{
		Use:   "push DIR...",
		Short: "Push built packages (org/image:tag) to their registry, optionally signed with SBOM and provenance",
		Long: `pkg push pushes each package's cached image to org/image:tag (build it
first with pkg build, or use pkg build --push). With --sign, the index and
every per-arch manifest are signed (cosign and/or notation), and each
per-arch manifest gets a cosign-signed SPDX SBOM (from its apk/dpkg
database) and SLSA provenance (from the package's build inputs).`,
		Example: "  lkpkg pkg push --org registry.example.com/lkpkg --sign --key cosign.key pkgs/...",
		Args:    cobra.MinimumNArgs(1),
		RunE: g.withPackages(&lf, func(cmd *cobra.Command, c *cache.Cache, pkgs []*pkgbuild.Package) error {
			p, err := newPublisher(cmd, c, &pf, &sf)
			if err != nil {
				return err
			}
			return p.publishPackages(cmd.Context(), pkgs)
		}),
	}
	lf.register(cmd)
	pf.register(cmd, "force")
	sf.register(cmd, true)
	return cmd
}

func newSignCmd() *cobra.Command {
	var (
		sf signFlags
		rf registryFlags
	)
	sf.needSign = true
	cmd := &cobra.Command{
		Use:   "sign REF",
		Short: "Sign an image in a registry: its index and every per-arch manifest (cosign and/or notation)",
		Long: `sign signs the image at REF (a tag is resolved to its digest first): the
index and each per-arch manifest, with cosign (stored as cosign stores
it, verifiable with cosign verify --key; no transparency log upload, as
signing here is offline) and/or notation (JWS or COSE, stored as OCI 1.1
referrers, or the referrers tag schema where the registry lacks the API).
With cosign, each per-arch manifest also gets a signed SPDX SBOM.`,
		Example: "  COSIGN_PASSWORD=... lkpkg sign --key cosign.key registry.example.com/lkpkg/dhcpcd:<tag>",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := rf.Options()
			signers, err := sf.signers(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ref, err := sign.Resolve(cmd.Context(), args[0], r)
			if err != nil {
				return err
			}
			var attester sign.Attester
			if !sf.noAttest && signers.Cosign != nil {
				attester = sign.DefaultAttester(nil, nil, ref.Context().String())
			}
			signed, err := sign.Index(cmd.Context(), ref, signers, attester, r, nil)
			if err != nil {
				return err
			}
			printSigned(cmd.OutOrStdout(), ref, signers, signed)
			return nil
		},
	}
	sf.register(cmd, false)
	rf.AddFlags(cmd)
	return cmd
}

func newVerifyCmd() *cobra.Command {
	var (
		key, policy, store string
		rf                 registryFlags
		require            []string
	)
	cmd := &cobra.Command{
		Use:   "verify REF",
		Short: "Verify an image's signatures (index and every per-arch manifest); fails closed",
		Long: `verify checks the image at REF and each per-arch manifest it lists against
a cosign public key (--key) and/or a notation trust policy
(--notation-policy with --notation-truststore). Any missing, invalid or
untrusted signature, or a bad attestation, fails the command. It prints
what was verified: digests, signers and attestation types.`,
		Example: `  lkpkg verify --key cosign.pub registry.example.com/lkpkg/dhcpcd:<tag>
  lkpkg verify --notation-policy trustpolicy.json --notation-truststore truststore/ REF`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := sign.Policy{NotationPolicy: policy, NotationTrustStore: store}
			for _, r := range require {
				p.RequireAttestations = append(p.RequireAttestations, attest.PredicateTypeFor(r))
			}
			if key != "" {
				b, err := os.ReadFile(key)
				if err != nil {
					return err
				}
				p.CosignPublicKey = b
			}
			r := rf.Options()
			ref, err := sign.Resolve(cmd.Context(), args[0], r)
			if err != nil {
				return fmt.Errorf("verification FAILED: %w", err)
			}
			verified, err := sign.Verify(cmd.Context(), ref, p, r)
			if err != nil {
				return fmt.Errorf("verification FAILED: %w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "verified %s\n", ref)
			for _, v := range verified {
				what := v.Platform
				if what == "" {
					what = "index"
				}
				var by []string
				if v.Cosign != nil {
					by = append(by, fmt.Sprintf("cosign %s (%d signature(s))", v.Cosign.Signer, v.Cosign.Signatures))
				}
				if v.Notation != nil {
					by = append(by, fmt.Sprintf("notation %s [%s] (%d signature(s))", v.Notation.Signer, v.Notation.Envelope, v.Notation.Signatures))
				}
				fmt.Fprintf(out, "  %-12s %s signed by %s\n", what, v.Digest, strings.Join(by, " and "))
				if len(v.Attestations) > 0 {
					fmt.Fprintf(out, "  %-12s attestations: %s\n", "", strings.Join(v.Attestations, ", "))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "cosign public key (cosign.pub)")
	cmd.Flags().StringVar(&policy, "notation-policy", "", "notation trust policy (trustpolicy.json)")
	cmd.Flags().StringVar(&store, "notation-truststore", "", "notation trust store directory (x509/ca/NAME/*.crt)")
	cmd.Flags().StringSliceVar(&require, "require-attestation", nil, "predicate types every per-arch manifest must carry, signed by --key: spdxjson, slsaprovenance1 or a URI (by default attestations found are verified, none is required)")
	rf.AddFlags(cmd)
	return cmd
}

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Make signing keys"}
	var (
		dir, cn      string
		withNotation bool
		validity     time.Duration
	)
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Make a cosign key pair (cosign.key encrypted as cosign does, cosign.pub) and, with --notation, a test CA and signing certificate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			pw, err := cosignPassword(cmd.ErrOrStderr(), true)
			if err != nil {
				return err
			}
			priv, pub, err := cosign.GenerateKeys(dir, pw)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cosign: %s (private, encrypted) %s (public)\n", priv, pub)
			if withNotation {
				ca, cert, key, err := notation.GenerateTestCA(dir, cn, validity)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "notation: %s (test CA: put it in the verifier's trust store) %s %s (signing certificate chain and key)\n", ca, cert, key)
			}
			return nil
		},
	}
	gen.Flags().StringVarP(&dir, "dir", "d", ".", "directory to write the keys to (never overwrites)")
	gen.Flags().BoolVar(&withNotation, "notation", false, "also make a test CA and a code-signing certificate for notation")
	gen.Flags().StringVar(&cn, "notation-name", "lkpkg test signer", "common name of the notation signing certificate")
	gen.Flags().DurationVar(&validity, "notation-validity", 365*24*time.Hour, "validity of the notation test certificates")
	cmd.AddCommand(gen)
	return cmd
}
