package mirror

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/internal/atomicfile"
)

// Options are the machine-specific parts of a mirror run: none of them
// changes the lock or the image. The library reads no environment
// variables: cmd/lkpkg fills these from flags and the environment.
type Options struct {
	// APKUpstream replaces mirror.yml's upstream ("" = mirror.yml's):
	// another copy of the Alpine repositories, same layout.
	APKUpstream string
	// APKSigningKey is the mirror's private key file for the offline
	// APKINDEX ("" = mirror.yml's signing-key without .pub).
	APKSigningKey string
	// APKDownloadDir, DebDownloadDir and GoDownloadDir are the verified
	// download caches; each is required when mirror.yml has that source.
	APKDownloadDir string
	DebDownloadDir string
	GoDownloadDir  string
	// DebianUpstream, when set, serves every locked .deb at fetch time
	// (URL + "/" + the lock's pool filename) instead of debian.sources:
	// another copy of the archive, or a mirror image's /mirror/debian.
	// Locking still needs the real sources' signed InRelease files.
	DebianUpstream string
	// AllowOlderRelease lets lock accept an InRelease dated before the one
	// the current lock was made from, and Alpine packages older than the
	// versions it pins.
	AllowOlderRelease bool
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

// Ref is the mirror image reference: org/image:tag.
func (c *Config) Ref() (string, error) {
	tag, err := Tag(c)
	if err != nil {
		return "", err
	}
	return c.Repo() + ":" + tag, nil
}

// LockAndWrite resolves every source of mirror.yml and writes mirror.lock
// atomically.
func LockAndWrite(ctx context.Context, c *Config, opts Options) (*Lock, error) {
	lock := &Lock{Version: LockVersion}
	for _, s := range c.Sources() {
		if err := s.lock(ctx, lock, opts); err != nil {
			return nil, err
		}
	}
	// The inputs include the root filesystems just pinned.
	inputs, err := c.InputsDigest(lock)
	if err != nil {
		return nil, err
	}
	lock.Inputs = inputs
	data, err := lock.Marshal()
	if err != nil {
		return nil, err
	}
	return lock, atomicfile.WriteFile(c.LockFile(), data, 0o644)
}

// Contents are the verified files a lock names, by source.
type Contents struct {
	APK       Fetched
	APKRootfs map[string]string // apk arch -> verified base root filesystem
	Debs      FetchedDebs
	Go        FetchedGo
}

// Fetch downloads and verifies everything the lock names.
func Fetch(ctx context.Context, c *Config, opts Options) (*Lock, *Contents, FetchStats, error) {
	return fetchSources(ctx, c, c.Sources(), opts)
}

func fetchSources(ctx context.Context, c *Config, sources []Source, opts Options) (*Lock, *Contents, FetchStats, error) {
	start := time.Now()
	lock, err := ReadLock(c.LockFile(), c)
	if err != nil {
		return nil, nil, FetchStats{}, err
	}
	out := &Contents{}
	var stats FetchStats
	for _, s := range sources {
		if err := s.fetch(ctx, lock, opts, out, &stats); err != nil {
			return nil, nil, stats, err
		}
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
	sources := c.Sources()
	lock, contents, _, err := fetchSources(ctx, c, sources, opts)
	if err != nil {
		return "", v1.Descriptor{}, err
	}
	epoch := time.Unix(c.Epoch(), 0).UTC()
	for _, s := range sources {
		if err := s.prepareImage(opts, epoch); err != nil {
			return "", v1.Descriptor{}, err
		}
	}
	idx, cleanup, err := imageIndex(c, sources, lock, contents)
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
	ref := c.Repo() + ":" + tagOf(in)
	desc, err := store.WriteIndex(ctx, ref, idx)
	return ref, desc, err
}
