package mirror

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/lkpkg/lkpkg/internal/userdir"
	"github.com/lkpkg/lkpkg/mirror/apksign"
)

// Fetcher downloads locked packages into a content-addressed download
// cache, verifying each one, in parallel and resumably.
type Fetcher struct {
	Upstream *Upstream
	Keys     *apksign.Keyring
	Dir      string    // download cache; "" = DefaultDownloadDir()
	Jobs     int       // parallel downloads; 0 = 4
	Progress io.Writer // one line per package; nil = silent
}

// DefaultDownloadDir is $LKPKG_APK_CACHE, else ~/.cache/lkpkg/apk.
func DefaultDownloadDir() string { return userdir.Cache("LKPKG_APK_CACHE", "apk") }

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
		dir = DefaultDownloadDir()
	}
	if dir == "" {
		return nil, FetchStats{}, errors.New("no download cache directory: set $HOME, $XDG_CACHE_HOME or $LKPKG_APK_CACHE, or pass --download-cache")
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
					state = fmt.Sprintf("%.1f kB", float64(n)/1e3)
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

// cacheName is the download cache file for a package: the hex of the
// checksum, which (through the signed control segment's data hash) pins
// the whole file.
func cacheName(p LockedPackage) (string, error) {
	q, ok := strings.CutPrefix(p.Checksum, "Q1")
	if !ok {
		return "", fmt.Errorf("%s-%s: checksum %q is not a Q1 checksum", p.Name, p.Version, p.Checksum)
	}
	raw, err := base64.StdEncoding.DecodeString(q)
	if err != nil || len(raw) != 20 {
		return "", fmt.Errorf("%s-%s: malformed checksum %q", p.Name, p.Version, p.Checksum)
	}
	return hex.EncodeToString(raw) + ".apk", nil
}

// fetchOne returns the verified cached file for p, downloading it if
// needed; n is the number of bytes transferred.
func (f *Fetcher) fetchOne(ctx context.Context, dir string, p LockedPackage) (path string, n int64, err error) {
	name, err := cacheName(p)
	if err != nil {
		return "", 0, err
	}
	path = filepath.Join(dir, name)
	if f.verify(path, p) == nil {
		return path, 0, nil
	}
	// One downloader per package across processes; others wait and reuse.
	unlock, err := lockFile(ctx, path+".lock")
	if err != nil {
		return "", 0, err
	}
	defer unlock()
	if f.verify(path, p) == nil {
		return path, 0, nil
	}
	part := path + ".part"
	n, err = f.download(ctx, p, part)
	if err != nil {
		return "", n, err
	}
	if err := f.verify(part, p); err != nil {
		os.Remove(part) // bad bytes: never resume from them
		return "", n, err
	}
	if err := os.Rename(part, path); err != nil {
		return "", n, err
	}
	return path, n, nil
}

// download appends to part, resuming from its current size.
func (f *Fetcher) download(ctx context.Context, p LockedPackage, part string) (int64, error) {
	rel := p.Repository + "/" + p.Arch + "/" + p.Filename()
	file, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	offset, err := file.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if offset > p.Size {
		if err := file.Truncate(0); err != nil {
			return 0, err
		}
		offset = 0
	}
	if offset == p.Size && p.Size > 0 {
		return 0, nil
	}
	rc, err := f.Upstream.Open(ctx, rel, offset)
	if errors.Is(err, errBadRange) && offset > 0 {
		// The partial file cannot be continued: start again from zero.
		if err := file.Truncate(0); err != nil {
			return 0, err
		}
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
		offset = 0
		rc, err = f.Upstream.Open(ctx, rel, 0)
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return 0, fmt.Errorf("locked package %s-%s (%s) is missing upstream at %s", p.Name, p.Version, p.Arch, f.Upstream.URL(rel))
		}
		return 0, fmt.Errorf("fetching %s-%s: %w", p.Name, p.Version, err)
	}
	defer rc.Close()
	n, err := io.Copy(file, io.LimitReader(rc, p.Size-offset+1))
	if err != nil {
		return n, fmt.Errorf("fetching %s-%s: %w (the partial download is kept and resumed next time)", p.Name, p.Version, err)
	}
	if err := file.Sync(); err != nil {
		return n, err
	}
	return n, nil
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

// lockFile takes an exclusive flock on path, polling so ctx can cancel.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		} else if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
