package assemble

// Build: `lkpkg build IMAGE.yml`, as `linuxkit build`, verified first.
//
//  1. parse the YAML;
//  2. pin every image reference to a digest: IMAGE.lock when it exists
//     (unless UpdateLock), else the local cache, else the registry;
//  3. verify the signatures of every image the trust policy covers, against
//     the registry the image is named after, BEFORE any layer is read;
//  4. compose the root filesystem (Compose) into a temporary file in the
//     output directory, reading every image by its pinned digest with every
//     manifest, config and layer checked against its digest;
//  5. write the outputs (WriteOutputs).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/registry"
	"github.com/lkpkg/lkpkg/sign"
)

// Options configure Build.
type Options struct {
	// Cache is the local image cache, looked in first (may be nil).
	Cache *cache.Cache
	// Platform of the images used (default linux/amd64).
	Platform v1.Platform
	// OutputDir receives the outputs (default "."; created if missing).
	OutputDir string
	// Formats are WriteOutputs formats (default kernel+initrd).
	Formats []string
	// UpdateLock re-resolves every reference and rewrites the lock file.
	UpdateLock bool
	// Registry says how to reach registries: Insecure allows plain HTTP,
	// to loopback registries only (others are still reached over HTTPS);
	// Keychain resolves credentials (nil: docker config.json).
	Registry registry.Options
	// InsecureSkipVerify skips signature verification (a WARNING per image).
	InsecureSkipVerify bool
	// Policy, when set, is a verification policy every image must pass, in
	// addition to the YAML's trust section.
	Policy *sign.Policy
	// Bootloader is the image holding the EFI bootloader the EFI formats
	// put on their ESP (e.g. lkpkg/systemd-boot:TAG from pkgs/systemd-boot).
	// It is pinned in the lock and verified like every other image.
	Bootloader string
	// DiskSize is the size of raw-efi and qcow2-efi disks (0: fit).
	DiskSize int64
	// Log receives notes and warnings (nil: discarded).
	Log io.Writer
}

// Result says what Build did.
type Result struct {
	Outputs  []string           // files written
	LockFile string             // the lock file used or written
	Digests  map[string]v1.Hash // every reference, as written, to its digest
	Verified []string           // references whose signatures were verified
}

// ErrNotVerified wraps every signature verification failure.
var ErrNotVerified = errors.New("signature verification failed")

// Build assembles the image YAML at yamlPath.
func Build(ctx context.Context, yamlPath string, opts Options) (*Result, error) {
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	if opts.Platform.Architecture == "" {
		opts.Platform = v1.Platform{OS: "linux", Architecture: "amd64"}
	}
	if opts.Platform.OS == "" {
		opts.Platform.OS = "linux"
	}
	if len(opts.Formats) == 0 {
		opts.Formats = []string{FormatKernelInitrd}
	}
	if err := CheckFormats(opts.Formats); err != nil {
		return nil, err
	}
	if NeedsBootloader(opts.Formats) && opts.Bootloader == "" {
		return nil, fmt.Errorf("the EFI formats need a bootloader image (--bootloader), e.g. the one pkgs/systemd-boot builds: `lkpkg pkg build pkgs/systemd-boot` and pass `--bootloader $(lkpkg pkg show-tag pkgs/systemd-boot)`")
	}
	if opts.OutputDir == "" {
		opts.OutputDir = "."
	}
	data, err := os.ReadFile(yamlPath)
	if err != nil {
		return nil, err
	}
	img, err := ParseImage(yamlPath, data)
	if err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, opts: opts, log: log, img: img, yamlDir: filepath.Dir(yamlPath)}
	res := &Result{LockFile: LockPath(yamlPath), Digests: map[string]v1.Hash{}}

	// 2. pin
	lock, fromFile, err := b.pin(ctx, res.LockFile)
	if err != nil {
		return nil, err
	}
	for _, ref := range b.refs() {
		res.Digests[ref], _ = lock.Get(ref)
	}
	b.lock = lock

	// 3. verify, before any content is read
	if res.Verified, err = b.verify(ctx); err != nil {
		return nil, err
	}

	// 4. compose
	if err := os.MkdirAll(opts.OutputDir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(opts.OutputDir, ".lkpkg-rootfs-*.tar")
	if err != nil {
		return nil, err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	copts := ComposeOptions{YAML: data, BaseDir: b.yamlDir, TempDir: opts.OutputDir, IndexSource: b.index}
	if err := Compose(tmp, img, b.image, copts); err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}

	// 5. outputs, unless the build was interrupted meanwhile
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(yamlPath), ".yml"), ".yaml")
	oopts := OutputOptions{Arch: opts.Platform.Architecture, DiskSize: opts.DiskSize}
	if NeedsBootloader(opts.Formats) {
		if oopts.EFIBootloader, err = b.bootloader(opts.Bootloader); err != nil {
			return nil, err
		}
	}
	if res.Outputs, err = WriteOutputsWith(tmp, opts.OutputDir, base, opts.Formats, oopts); err != nil {
		return nil, err
	}
	// The lock records what a successful, verified build used: written
	// last, so a failed build never pins anything.
	if !fromFile {
		if err := WriteLock(res.LockFile, lock); err != nil {
			return nil, fmt.Errorf("writing %s: %w", res.LockFile, err)
		}
	}
	return res, nil
}

type builder struct {
	ctx     context.Context // the build's: fetches during compose stop with it
	opts    Options
	log     io.Writer
	img     *Image
	yamlDir string
	lock    *Lock
}

// remoteFor is how to reach ref's registry: plain HTTP only with
// --insecure-registry and a loopback host.
func (b *builder) remoteFor(ref name.Reference) registry.Options {
	return b.opts.Registry.For(ref.Context().RegistryStr())
}

func (b *builder) parse(ref string) (name.Reference, error) {
	p, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if b.remoteFor(p).Insecure {
		return name.ParseReference(ref, name.Insecure)
	}
	return p, nil
}

func (b *builder) remoteOpts(ctx context.Context, ref name.Reference) []remote.Option {
	return b.remoteFor(ref).RemoteOptions(ctx)
}

// pin returns every reference's digest, from the lock file (fromFile) or
// resolved now.
func (b *builder) pin(ctx context.Context, lockPath string) (_ *Lock, fromFile bool, _ error) {
	if !b.opts.UpdateLock {
		l, ok, err := ReadLock(lockPath)
		if err != nil {
			return nil, false, err
		}
		if ok {
			for _, ref := range b.refs() {
				got, ok := l.Get(ref)
				if !ok {
					return nil, false, fmt.Errorf("%s: image %s is not in the lock file (run with --update-lock to resolve it)", lockPath, ref)
				}
				// A digest written in the YAML wins over any lock file.
				if p, err := b.parse(ref); err == nil {
					if d, isDigest := p.(name.Digest); isDigest && d.DigestStr() != got.String() {
						return nil, false, fmt.Errorf("%s pins %s to %s but the YAML pins %s", lockPath, ref, got, d.DigestStr())
					}
				}
			}
			return l, true, nil
		}
	}
	l := NewLock()
	for _, ref := range b.refs() {
		d, err := b.resolve(ctx, ref)
		if err != nil {
			return nil, false, err
		}
		l.Set(ref, d)
	}
	return l, false, nil
}

// refs are every image the build uses: the YAML's, then the bootloader.
func (b *builder) refs() []string {
	refs := b.img.Refs()
	if bl := b.opts.Bootloader; bl != "" && NeedsBootloader(b.opts.Formats) && !slices.Contains(refs, bl) {
		refs = append(refs, bl)
	}
	return refs
}

// resolve pins one reference: its digest if it has one, else the local
// cache's entry, else the registry's.
func (b *builder) resolve(ctx context.Context, ref string) (v1.Hash, error) {
	p, err := b.parse(ref)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image %s: %w", ref, err)
	}
	if d, ok := p.(name.Digest); ok {
		return v1.NewHash(d.DigestStr())
	}
	if b.opts.Cache != nil {
		desc, ok, err := b.opts.Cache.Resolve(ref)
		if err != nil {
			return v1.Hash{}, err
		}
		if ok {
			return desc.Digest, nil
		}
	}
	if err := b.remoteFor(p).Check(p.Context().RegistryStr()); err != nil {
		return v1.Hash{}, err
	}
	desc, err := remote.Head(p, b.remoteOpts(ctx, p)...)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image %s: not in the local cache, and the registry did not resolve it: %w", ref, err)
	}
	return desc.Digest, nil
}

// pinned is ref at its pinned digest.
func (b *builder) pinned(ref string) (name.Digest, error) {
	p, err := b.parse(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("image %s: %w", ref, err)
	}
	d, ok := b.lock.Get(ref)
	if !ok {
		return name.Digest{}, fmt.Errorf("image %s: no pinned digest", ref)
	}
	return p.Context().Digest(d.String()), nil
}

// pinnedHash is ref at its pinned digest, and that digest.
func (b *builder) pinnedHash(ref string) (name.Digest, v1.Hash, error) {
	d, err := b.pinned(ref)
	if err != nil {
		return name.Digest{}, v1.Hash{}, err
	}
	h, err := v1.NewHash(d.DigestStr())
	return d, h, err
}

// trustPolicies lists the policies ref must pass: one of each inner list.
func (b *builder) trustPolicies(ref string) ([][]sign.Policy, error) {
	var out [][]sign.Policy
	if b.opts.Policy != nil {
		out = append(out, []sign.Policy{*b.opts.Policy})
	}
	t := &b.img.Trust
	if !t.Requires(ref) {
		return out, nil
	}
	var notation sign.Policy
	if t.Notation != nil {
		notation.NotationPolicy = b.hostPath(t.Notation.Policy)
		notation.NotationTrustStore = b.hostPath(t.Notation.TrustStore)
	}
	keys := t.CosignKeys(ref)
	if len(keys) == 0 && t.Notation == nil {
		return nil, fmt.Errorf("image %s must be verified (trust.org/trust.image cover it), but the trust section has no cosign key for it and no notation policy: %w", ref, ErrNotVerified)
	}
	if len(keys) == 0 {
		return append(out, []sign.Policy{notation}), nil
	}
	var oneOf []sign.Policy
	for _, k := range keys {
		if strings.Contains(k, "://") {
			return nil, fmt.Errorf("image %s: trust.cosign key %q: key references are not supported yet (give a public key file)", ref, k)
		}
		pem, err := os.ReadFile(b.hostPath(k))
		if err != nil {
			return nil, fmt.Errorf("image %s: trust.cosign key: %w", ref, err)
		}
		p := notation
		p.CosignPublicKey = pem
		oneOf = append(oneOf, p)
	}
	return append(out, oneOf), nil
}

// hostPath resolves a path from the YAML relative to the YAML's directory.
func (b *builder) hostPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(b.yamlDir, p)
}

// verify checks every image the policy covers, at its pinned digest, in
// the registry it is named after. Nothing of the images' content is read.
func (b *builder) verify(ctx context.Context) ([]string, error) {
	t := &b.img.Trust
	if b.opts.Policy == nil && len(t.Org) == 0 && len(t.Image) == 0 && len(t.Cosign) == 0 && t.Notation == nil {
		fmt.Fprintln(b.log, "note: no trust policy: images are not verified")
		return nil, nil
	}
	var verified []string
	for _, ref := range b.refs() {
		sets, err := b.trustPolicies(ref)
		if err != nil {
			if b.opts.InsecureSkipVerify {
				fmt.Fprintf(b.log, "WARNING: --insecure-skip-verify: image %s is NOT VERIFIED (%v)\n", ref, err)
				continue
			}
			return nil, err
		}
		if len(sets) == 0 {
			fmt.Fprintf(b.log, "note: image %s is not covered by the trust policy: not verified\n", ref)
			continue
		}
		d, err := b.pinned(ref)
		if err != nil {
			return nil, err
		}
		if b.opts.InsecureSkipVerify {
			fmt.Fprintf(b.log, "WARNING: --insecure-skip-verify: image %s (%s) is NOT VERIFIED\n", ref, d.DigestStr())
			continue
		}
		for _, set := range sets {
			var errs []error
			ok := false
			for _, p := range set {
				if _, err := sign.Verify(ctx, d, p, b.remoteFor(d)); err != nil {
					errs = append(errs, err)
					continue
				}
				ok = true
				break
			}
			if !ok {
				return nil, fmt.Errorf("image %s (%s): %w: signatures are looked up in %s, the registry it is named after: %w",
					ref, d.DigestStr(), ErrNotVerified, d.Context().RegistryStr(), errors.Join(errs...))
			}
		}
		fmt.Fprintf(b.log, "verified %s (%s)\n", ref, d.DigestStr())
		verified = append(verified, ref)
	}
	return verified, nil
}

// image returns ref's image for the platform at its pinned digest: from the
// cache, where every manifest and config is checked against its digest
// (the layers are checked by layer.WriteTar), else from the registry, which
// go-containerregistry verifies by digest.
func (b *builder) image(ref string) (v1.Image, error) {
	d, h, err := b.pinnedHash(ref)
	if err != nil {
		return nil, err
	}
	if b.opts.Cache != nil {
		img, err := b.cachedImage(h)
		if err == nil {
			return img, nil
		}
		if !errors.Is(err, cache.ErrNotFound) {
			return nil, fmt.Errorf("pinned digest %s in the local cache: %w", h, err)
		}
	}
	desc, err := remote.Get(d, b.remoteOpts(b.ctx, d)...)
	if err != nil {
		return nil, fmt.Errorf("pinned digest %s is not in the local cache, and fetching it failed: %w", h, err)
	}
	if !desc.MediaType.IsImage() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		return b.platformImage(idx, h)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, err
	}
	return b.singleImage(img, h)
}

// index returns ref's index at its pinned digest (for volumes with
// format: oci), checked against the digest; ErrNotIndex when the digest
// names a single manifest.
func (b *builder) index(ref string) (v1.ImageIndex, error) {
	d, h, err := b.pinnedHash(ref)
	if err != nil {
		return nil, err
	}
	var idx v1.ImageIndex
	if c := b.opts.Cache; c != nil {
		if idx, err = c.IndexByDigest(h); err != nil && !errors.Is(err, cache.ErrNotFound) {
			return nil, fmt.Errorf("pinned digest %s in the local cache: %w", h, err)
		}
		if idx == nil {
			if _, serr := c.ImageByDigest(h, b.opts.Platform); serr == nil {
				return nil, fmt.Errorf("%s: %w", h, ErrNotIndex)
			}
		}
	}
	if idx == nil {
		desc, err := remote.Get(d, b.remoteOpts(b.ctx, d)...)
		if err != nil {
			return nil, fmt.Errorf("pinned digest %s is not in the local cache, and fetching it failed: %w", h, err)
		}
		if desc.MediaType.IsImage() {
			return nil, fmt.Errorf("%s: %w", h, ErrNotIndex)
		}
		if idx, err = desc.ImageIndex(); err != nil {
			return nil, err
		}
	}
	if err := checkIndex(idx, h); err != nil {
		return nil, err
	}
	return idx, nil
}

// singleImage checks a manifest pinned directly (not through an index):
// its digest, and that it is for the platform being built.
func (b *builder) singleImage(img v1.Image, h v1.Hash) (v1.Image, error) {
	// Only a fallback for a manifest without mediaType: the checked
	// manifest's own wins (see checkImage).
	mt, _ := img.MediaType()
	ci, err := checkImage(img, v1.Descriptor{MediaType: mt, Digest: h, Size: -1}, false)
	if err != nil {
		return nil, err
	}
	cf := ci.cf
	if cf.Architecture != b.opts.Platform.Architecture || (cf.OS != "" && cf.OS != b.opts.Platform.OS) {
		return nil, fmt.Errorf("image %s is for %s/%s, not %s", h, cf.OS, cf.Architecture, b.opts.Platform.String())
	}
	return ci, nil
}

func (b *builder) cachedImage(h v1.Hash) (v1.Image, error) {
	c := b.opts.Cache
	if idx, err := c.IndexByDigest(h); err == nil {
		if err := checkIndex(idx, h); err != nil {
			return nil, err
		}
		return b.platformImage(idx, h)
	} else if !errors.Is(err, cache.ErrNotFound) {
		return nil, err
	}
	img, err := c.ImageByDigest(h, b.opts.Platform)
	if err != nil {
		return nil, err
	}
	return b.singleImage(img, h)
}

// platformImage picks the platform's image from a (digest-checked) index.
func (b *builder) platformImage(idx v1.ImageIndex, h v1.Hash) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	want := b.opts.Platform
	for _, d := range im.Manifests {
		p := d.Platform
		if p == nil || !d.MediaType.IsImage() || p.OS != want.OS || p.Architecture != want.Architecture || (want.Variant != "" && p.Variant != want.Variant) {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		// Sizes unchecked, as for a single manifest: the digest decides.
		ci, err := checkImage(img, v1.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: -1}, false)
		if err != nil {
			return nil, err
		}
		return ci, nil
	}
	return nil, fmt.Errorf("index %s has no image for %s", h, want.String())
}
