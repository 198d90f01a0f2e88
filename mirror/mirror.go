package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/internal/atomicfile"
	"github.com/lkpkg/lkpkg/mirror/apksign"
)

// SigningKeyEnv names the mirror's private key when no flag does.
const SigningKeyEnv = "LKPKG_MIRROR_SIGNING_KEY"

// Options are the machine-specific parts of a mirror run: none of them
// changes the lock or the image.
type Options struct {
	Upstream       string // overrides mirror.yml's upstream ("" = $LKPKG_APK_UPSTREAM or mirror.yml)
	SigningKey     string // private key file ("" = $LKPKG_MIRROR_SIGNING_KEY, else signing-key without .pub)
	DownloadDir    string // APK download cache; "" = DefaultDownloadDir()
	DebDownloadDir string // Debian download cache; "" = DefaultDebDownloadDir()
	// DebianUpstream, when set, serves every locked .deb at fetch time
	// (URL + "/" + the lock's pool filename) instead of debian.sources:
	// another copy of the archive, or a mirror image's /mirror/debian.
	// Locking still needs the real sources' signed InRelease files.
	DebianUpstream string
	// AllowOlderRelease lets lock accept an InRelease dated before the one
	// the current lock was made from.
	AllowOlderRelease bool
	GoDownloadDir     string           // Go module download cache; "" = DefaultGoDownloadDir()
	Now               func() time.Time // clock for signature expiry checks; nil = time.Now
	Jobs              int              // parallel downloads
	Progress          io.Writer        // nil = silent
}

// Load reads mirror.yml from a directory or a file path.
func Load(dirOrFile string) (*Config, error) {
	file := dirOrFile
	if fi, err := os.Stat(dirOrFile); err == nil && fi.IsDir() {
		file = filepath.Join(dirOrFile, "mirror.yml")
	}
	return LoadConfig(file)
}

// Keys loads the trusted upstream keys.
func (c *Config) TrustedKeys() (*apksign.Keyring, error) {
	k, err := apksign.LoadKeyring(c.Path(c.Keys))
	if err != nil {
		return nil, fmt.Errorf("%s: keys: %w", c.file, err)
	}
	return k, nil
}

// Ref is the mirror image reference: org/image:tag.
func (c *Config) Ref() (string, error) {
	tag, err := Tag(c)
	if err != nil {
		return "", err
	}
	return c.Repo() + ":" + tag, nil
}

// LockAndWrite resolves every section of mirror.yml and writes mirror.lock
// atomically.
func LockAndWrite(ctx context.Context, c *Config, opts Options) (*Lock, error) {
	lock, err := resolveAll(ctx, c, opts)
	if err != nil {
		return nil, err
	}
	data, err := lock.Marshal()
	if err != nil {
		return nil, err
	}
	return lock, atomicfile.WriteFile(c.LockFile(), data, 0o644)
}

func resolveAll(ctx context.Context, c *Config, opts Options) (*Lock, error) {
	var lock *Lock
	if c.HasAlpine() {
		up, err := NewUpstream(c, opts.Upstream)
		if err != nil {
			return nil, err
		}
		keys, err := c.TrustedKeys()
		if err != nil {
			return nil, err
		}
		if lock, err = ResolveLock(ctx, c, up, keys, opts.Progress); err != nil {
			return nil, err
		}
	} else {
		inputs, err := c.InputsDigest()
		if err != nil {
			return nil, err
		}
		lock = &Lock{Version: LockVersion, Inputs: inputs}
	}
	var err error
	if c.Debian != nil {
		if lock.Debian, err = resolveDebian(ctx, c, opts); err != nil {
			return nil, err
		}
	}
	if c.Go != nil {
		if lock.Go, err = resolveGo(ctx, c, opts); err != nil {
			return nil, err
		}
	}
	return lock, nil
}

// Contents are the verified files a lock names, by section.
type Contents struct {
	APK  Fetched
	Debs FetchedDebs
	Go   FetchedGo
}

// Fetch downloads and verifies everything the lock names.
func Fetch(ctx context.Context, c *Config, opts Options) (*Lock, *Contents, FetchStats, error) {
	start := time.Now()
	lock, err := ReadLock(c.LockFile(), c)
	if err != nil {
		return nil, nil, FetchStats{}, err
	}
	out := &Contents{}
	var stats FetchStats
	if c.HasAlpine() {
		up, err := NewUpstream(c, opts.Upstream)
		if err != nil {
			return nil, nil, stats, err
		}
		keys, err := c.TrustedKeys()
		if err != nil {
			return nil, nil, stats, err
		}
		f := &Fetcher{Upstream: up, Keys: keys, Dir: opts.DownloadDir, Jobs: opts.Jobs, Progress: opts.Progress}
		if out.APK, stats, err = f.Fetch(ctx, lock, c.Arches); err != nil {
			return nil, nil, stats, err
		}
	}
	if c.Debian != nil {
		if out.Debs, err = fetchDebian(ctx, c, lock.Debian, opts); err != nil {
			return nil, nil, stats, err
		}
		stats.Packages += len(out.Debs)
	}
	if c.Go != nil {
		if out.Go, err = fetchGo(ctx, c, lock.Go, opts); err != nil {
			return nil, nil, stats, err
		}
		stats.Packages += len(out.Go)
	}
	stats.Duration = time.Since(start)
	return lock, out, stats, nil
}

// Store is where the mirror image goes; *cache.Cache is one.
type Store interface {
	WriteIndex(ctx context.Context, ref string, idx v1.ImageIndex) (v1.Descriptor, error)
}

// Build fetches what the lock names, writes the offline repositories and
// stores the mirror image as Ref() in store.
func Build(ctx context.Context, c *Config, opts Options, store Store) (string, v1.Descriptor, error) {
	lock, contents, _, err := Fetch(ctx, c, opts)
	if err != nil {
		return "", v1.Descriptor{}, err
	}
	var apk *apkParts
	if c.HasAlpine() {
		keys, err := c.TrustedKeys()
		if err != nil {
			return "", v1.Descriptor{}, err
		}
		signer, err := c.Signer(opts.SigningKey)
		if err != nil {
			return "", v1.Descriptor{}, err
		}
		apk = &apkParts{keys: keys, signer: signer}
	}
	idx, cleanup, err := imageIndex(c, lock, contents, apk)
	defer cleanup()
	if err != nil {
		return "", v1.Descriptor{}, err
	}
	// The tag hashes the lock bytes the image was built from, read once:
	// a lock changed meanwhile cannot lend its tag to this image.
	in, err := tagInputs(c, lock.raw)
	if err != nil {
		return "", v1.Descriptor{}, err
	}
	sum := sha256.Sum256(in)
	ref := c.Repo() + ":" + hex.EncodeToString(sum[:])[:40]
	desc, err := store.WriteIndex(ctx, ref, idx)
	return ref, desc, err
}

// Signer loads the mirror's private key: keyFile, else
// $LKPKG_MIRROR_SIGNING_KEY, else the signing-key path without ".pub".
func (c *Config) Signer(keyFile string) (*apksign.Signer, error) {
	if keyFile == "" {
		keyFile = os.Getenv(SigningKeyEnv)
	}
	if keyFile == "" {
		keyFile = strings.TrimSuffix(c.Path(c.SigningKey), ".pub")
	}
	if _, err := os.Stat(keyFile); err != nil {
		return nil, fmt.Errorf("the mirror's private key %s: %w (pass --signing-key or set %s)", keyFile, err, SigningKeyEnv)
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
