package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lkpkg/lkpkg/internal/atomicfile"
	"github.com/lkpkg/lkpkg/mirror/apksign"
)

// apkSource is mirror.yml's Alpine part (upstream, repositories, keys,
// arches, packages, rootfs, signing-key): APKINDEX files verified against
// the trusted keys, resolved as apk-tools does, and an offline repository
// signed with the mirror's own key.
type apkSource struct {
	c *Config

	keys   *apksign.Keyring // trusted upstream keys, loaded once a run
	signer *apksign.Signer  // the mirror's key (prepareImage)
	pub    []byte           // its public half, as mirror.yml names it
}

// TrustedKeys loads the trusted upstream keys.
func (c *Config) TrustedKeys() (*apksign.Keyring, error) {
	k, err := apksign.LoadKeyring(c.Path(c.Keys))
	if err != nil {
		return nil, fmt.Errorf("%s: keys: %w", c.file, err)
	}
	return k, nil
}

func (s *apkSource) trustedKeys() (*apksign.Keyring, error) {
	if s.keys == nil {
		k, err := s.c.TrustedKeys()
		if err != nil {
			return nil, err
		}
		s.keys = k
	}
	return s.keys, nil
}

// upstream is this run's copy of the Alpine upstream and the keys its
// indexes and packages must be signed by.
func (s *apkSource) upstream(opts Options) (*Upstream, *apksign.Keyring, error) {
	up, err := NewUpstream(s.c, opts.APKUpstream)
	if err != nil {
		return nil, nil, err
	}
	keys, err := s.trustedKeys()
	return up, keys, err
}

func (s *apkSource) arches() (string, []string) {
	var out []string
	for _, a := range s.c.Arches {
		out = append(out, GOARCH(a))
	}
	return "arches", out
}

// writeInputs hashes repositories, arches, the wanted packages per arch,
// the trusted keys and the base root filesystems.
func (s *apkSource) writeInputs(b io.Writer, l *Lock) error {
	c := s.c
	keys, err := filepath.Glob(filepath.Join(c.Path(c.Keys), "*.pub"))
	if err != nil || len(keys) == 0 {
		return fmt.Errorf("%s: keys: no *.pub files in %s", c.file, c.Path(c.Keys))
	}
	fmt.Fprintf(b, "repositories %s\n", strings.Join(c.Repositories, " "))
	arches := sortedArches(c)
	for _, a := range arches {
		fmt.Fprintf(b, "world %s %s\n", a, strings.Join(c.World(a), " "))
	}
	for _, k := range keys { // Glob sorts
		sum, err := fileSHA256(k)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "key %s sha256:%s\n", filepath.Base(k), sum)
	}
	// What a root filesystem has installed is not locked again, so a new
	// root filesystem needs a new lock.
	return s.writeRootfsSums(b, l, "rootfs %s %s\n")
}

// writeRootfsSums writes one line per arch with a base root filesystem:
// its SHA-256 as l pins it, for the root filesystem mirror.yml names.
func (s *apkSource) writeRootfsSums(w io.Writer, l *Lock, format string) error {
	for _, a := range sortedArches(s.c) {
		rel := s.c.Rootfs[a]
		if rel == "" {
			continue
		}
		pin, ok := l.Rootfs[a]
		if !ok || pin.URL != rel {
			return fmt.Errorf("%s: rootfs %s: %s is not locked: run `lkpkg mirror lock` again", s.c.file, a, rel)
		}
		fmt.Fprintf(w, format, a, pin.SHA256)
	}
	return nil
}

func (s *apkSource) lock(ctx context.Context, l *Lock, opts Options) error {
	up, keys, err := s.upstream(opts)
	if err != nil {
		return err
	}
	if err := resolveAPK(ctx, s.c, up, keys, opts.Progress, l); err != nil {
		return err
	}
	return checkAPKRollback(s.c, l, opts)
}

func (s *apkSource) checkLock(l *Lock) error {
	for a, pin := range l.Rootfs {
		if s.c.Rootfs[a] != pin.URL {
			return fmt.Errorf("rootfs %s: %s is not mirror.yml's: run `lkpkg mirror lock` again", a, pin.URL)
		}
		if err := pin.validate(); err != nil {
			return err
		}
	}
	for _, a := range s.c.Arches {
		if _, ok := l.Packages[a]; !ok {
			return fmt.Errorf("arch %s is not locked: run `lkpkg mirror lock` again", a)
		}
		for _, p := range l.Packages[a] {
			if err := p.validate(s.c, a); err != nil {
				return fmt.Errorf("%s: %w", a, err)
			}
		}
	}
	return nil
}

func (s *apkSource) fetch(ctx context.Context, l *Lock, opts Options, out *Contents, stats *FetchStats) error {
	if opts.APKDownloadDir == "" {
		return errors.New("no APK download cache directory (Options.APKDownloadDir)")
	}
	up, keys, err := s.upstream(opts)
	if err != nil {
		return err
	}
	f := &Fetcher{Upstream: up, Keys: keys, Dir: opts.APKDownloadDir, Jobs: opts.Jobs, Progress: opts.Progress}
	fetched, st, err := f.Fetch(ctx, l, s.c.Arches)
	stats.Packages += st.Packages
	stats.Downloaded += st.Downloaded
	stats.Bytes += st.Bytes
	out.APK = fetched
	if err != nil {
		return err
	}
	out.APKRootfs = map[string]string{}
	for _, a := range sortedArches(s.c) {
		if pin, ok := l.Rootfs[a]; ok {
			if out.APKRootfs[a], err = fetchRootfs(ctx, up, opts.APKDownloadDir, pin); err != nil {
				return err
			}
		}
	}
	return nil
}

// prepareImage loads the mirror's private key and checks it is the one
// whose public half mirror.yml names: the image ships that public key.
func (s *apkSource) prepareImage(opts Options, epoch time.Time) error {
	c := s.c
	if _, err := s.trustedKeys(); err != nil {
		return err
	}
	signer, err := c.Signer(opts.APKSigningKey)
	if err != nil {
		return err
	}
	pub, err := os.ReadFile(c.Path(c.SigningKey))
	if err != nil {
		return fmt.Errorf("%s: signing-key: %w", c.file, err)
	}
	if want, err := apksign.ParsePublicKey(pub); err != nil {
		return fmt.Errorf("%s: %w", c.Path(c.SigningKey), err)
	} else if !want.Equal(&signer.Key.PublicKey) {
		return fmt.Errorf("the signing key given does not match %s (the public key mirror.yml names)", c.Path(c.SigningKey))
	}
	signer.KeyName = path.Base(c.SigningKey)
	signer.ModTime = epoch
	s.signer, s.pub = signer, pub
	return nil
}

// layers are the base root filesystem as it is, plus one layer holding
// the offline repository (RepoDir/ARCH/*.apk and an APKINDEX.tar.gz
// signed by the mirror's key), the key in /etc/apk/keys and
// /etc/apk/repositories naming RepoDir.
func (s *apkSource) layers(goarch string, l *Lock, contents *Contents, epoch time.Time, _ *tempLayers) ([]namedLayer, imageSettings, error) {
	c := s.c
	arch := apkArch(goarch)
	var layers []namedLayer
	if r := contents.APKRootfs[arch]; r != "" {
		base, err := tarball.LayerFromFile(r, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, imageSettings{}, fmt.Errorf("%s: rootfs %s: %w", c.file, arch, err)
		}
		layers = append(layers, namedLayer{base, "root filesystem"})
	}
	// Nothing in the image names the org: it is where the image is
	// stored, not what it is (the tag does not hash it either).
	files, err := repository(arch, l.Packages[arch], contents.APK, s.keys, s.signer, c.Image+" "+arch)
	if err != nil {
		return nil, imageSettings{}, err
	}
	repo, err := repoLayer(arch, files, s.signer.KeyName, s.pub, epoch)
	if err != nil {
		return nil, imageSettings{}, err
	}
	return append(layers, namedLayer{repo, "offline repository " + RepoDir}), imageSettings{}, nil
}

// writeTag hashes the mirror's public key: a new key is a new image.
func (s *apkSource) writeTag(w io.Writer, _ *Lock) error {
	pub, err := os.ReadFile(s.c.Path(s.c.SigningKey))
	if err != nil {
		return fmt.Errorf("%s: signing-key: %w", s.c.file, err)
	}
	fmt.Fprintf(w, "key %s sha256:%s\n", path.Base(s.c.SigningKey), sha256Hex(pub))
	return nil
}

// writeTagTail hashes each base root filesystem, after the other
// sources' lines as the tag always has.
func (s *apkSource) writeTagTail(w io.Writer, l *Lock) error {
	return s.writeRootfsSums(w, l, "rootfs %s sha256:%s\n")
}

// Signer loads the mirror's private key: keyFile, else the signing-key
// path without ".pub".
func (c *Config) Signer(keyFile string) (*apksign.Signer, error) {
	if keyFile == "" {
		keyFile = strings.TrimSuffix(c.Path(c.SigningKey), ".pub")
	}
	if _, err := os.Stat(keyFile); err != nil {
		return nil, fmt.Errorf("the mirror's private key %s: %w (pass --signing-key or set $LKPKG_MIRROR_SIGNING_KEY)", keyFile, err)
	}
	return apksign.LoadSigner(keyFile, filepath.Base(c.SigningKey))
}

// Keygen makes a mirror signing key pair in dir: NAME-XXXXXXXX.rsa
// (private, 0600) and NAME-XXXXXXXX.rsa.pub. It returns the public key path.
func Keygen(dir, name string, bits int) (string, error) {
	s, pub, priv, err := apksign.GenerateKey(name, bits)
	if err != nil {
		return "", err
	}
	pubPath := filepath.Join(dir, s.KeyName)
	privPath := strings.TrimSuffix(pubPath, ".pub")
	for _, p := range []string{pubPath, privPath} {
		if _, err := os.Stat(p); err == nil {
			return "", fmt.Errorf("%s already exists", p)
		}
	}
	if err := atomicfile.WriteNew(privPath, priv, 0o600); err != nil {
		return "", err
	}
	return pubPath, atomicfile.WriteNew(pubPath, pub, 0o644)
}

// apkArch maps a GOARCH back to the apk arch.
func apkArch(goarch string) string {
	for a, g := range apkArches {
		if g == goarch {
			return a
		}
	}
	return ""
}

func sortedArches(c *Config) []string {
	a := append([]string(nil), c.Arches...)
	sort.Strings(a)
	return a
}
