package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lkpkg/lkpkg/internal/units"
	"github.com/lkpkg/lkpkg/mirror/apksign"
	"github.com/lkpkg/lkpkg/mirror/download"
)

// Fetcher downloads locked packages into a content-addressed download
// cache, verifying each one, in parallel and resumably.
type Fetcher struct {
	Upstream *Upstream
	Keys     *apksign.Keyring
	Dir      string    // download cache (required)
	Jobs     int       // parallel downloads; 0 = 4
	Progress io.Writer // one line per package; nil = silent
}

// FetchStats says what a fetch did.
type FetchStats struct {
	Packages   int
	Downloaded int   // packages not already in the download cache
	Bytes      int64 // bytes transferred
	Duration   time.Duration
}

// Fetched maps a locked package's checksum to its verified file.
type Fetched map[string]string

// Fetch makes every package locked for arches available and verified:
// size, the lock's checksum (the control segment's Q1), the package's own
// signature and its data hash. A package the upstream lacks is an error
// naming it.
func (f *Fetcher) Fetch(ctx context.Context, lock *Lock, arches []string) (Fetched, FetchStats, error) {
	start := time.Now()
	dir := f.Dir
	if dir == "" {
		return nil, FetchStats{}, errors.New("no APK download cache directory (Fetcher.Dir)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, FetchStats{}, err
	}
	jobs := f.Jobs
	if jobs <= 0 {
		jobs = 4
	}
	var todo []LockedPackage
	for _, a := range arches {
		todo = append(todo, lock.Packages[a]...)
	}
	var (
		mu    sync.Mutex
		out   = Fetched{}
		stats = FetchStats{Packages: len(todo)}
		done  atomic.Int64
		bytes atomic.Int64
		dl    atomic.Int64
	)
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(jobs)
	for _, p := range todo {
		eg.Go(func() error {
			path, n, err := f.fetchOne(ctx, dir, p)
			if err != nil {
				return err
			}
			bytes.Add(n)
			if n > 0 {
				dl.Add(1)
			}
			i := done.Add(1)
			if f.Progress != nil {
				state := "cached"
				if n > 0 {
					state = units.Human(n)
				}
				fmt.Fprintf(f.Progress, "[%d/%d] %s/%s %s (%s)\n", i, len(todo), p.Arch, p.Name, p.Version, state)
			}
			mu.Lock()
			out[p.Checksum] = path
			mu.Unlock()
			return nil
		})
	}
	err := eg.Wait()
	stats.Downloaded, stats.Bytes, stats.Duration = int(dl.Load()), bytes.Load(), time.Since(start)
	return out, stats, err
}

// fetchOne returns the verified cached file for p, downloading it if
// needed; n is the number of bytes transferred.
func (f *Fetcher) fetchOne(ctx context.Context, dir string, p LockedPackage) (path string, n int64, err error) {
	name, err := p.cacheName()
	if err != nil {
		return "", 0, err
	}
	rel := p.Repository + "/" + p.Arch + "/" + p.Filename()
	var missing error // said as it is, without the "fetching" prefix
	res, err := download.Fetch(ctx, download.Request{
		Path:   filepath.Join(dir, name),
		Size:   p.Size,
		Verify: func(path string) error { return f.verify(path, p) },
		Open: func(ctx context.Context, offset int64) (io.ReadCloser, error) {
			rc, err := upstreamSource(f.Upstream, rel)(ctx, offset)
			if errors.Is(err, ErrNotFound) {
				missing = fmt.Errorf("locked package %s-%s (%s) is missing upstream at %s", p.Name, p.Version, p.Arch, f.Upstream.URL(rel))
				return nil, missing
			}
			return rc, err
		},
	})
	if err != nil {
		if missing != nil {
			return "", res.Bytes, missing
		}
		return "", res.Bytes, fmt.Errorf("fetching %s-%s: %w", p.Name, p.Version, err)
	}
	return res.Path, res.Bytes, nil
}

// verify checks a file against the lock and its signature.
func (f *Fetcher) verify(path string, p LockedPackage) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != p.Size {
		return fmt.Errorf("%s-%s: size %d, the lock says %d", p.Name, p.Version, fi.Size(), p.Size)
	}
	info, err := apksign.VerifyPackage(file, f.Keys, p.Checksum)
	if err != nil {
		return fmt.Errorf("%s-%s (%s): %w", p.Name, p.Version, p.Arch, err)
	}
	// The signed .PKGINFO must be the package the lock names.
	if name, ver := first(info.Fields["pkgname"]), first(info.Fields["pkgver"]); name != p.Name || ver != p.Version {
		return fmt.Errorf("%s-%s: the package inside is %s-%s", p.Name, p.Version, name, ver)
	}
	return nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// upstreamSource reads rel from up for the download cache, resuming at
// offset when the server allows it.
func upstreamSource(up *Upstream, rel string) download.Source {
	return func(ctx context.Context, offset int64) (io.ReadCloser, error) {
		rc, err := up.Open(ctx, rel, offset)
		if errors.Is(err, errBadRange) {
			return nil, fmt.Errorf("%w: %w", download.ErrNoRange, err)
		}
		return rc, err
	}
}
