package download

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/lkpkg/lkpkg/internal/flock"
)

// ErrMismatch marks content whose size or SHA-256 is not the pinned one.
var ErrMismatch = errors.New("hash mismatch")

// ErrTooLarge marks content of unknown size beyond Request.MaxSize.
var ErrTooLarge = errors.New("too large")

// ErrNoRange is what a Source returns (wrapped) when it cannot start at
// the offset asked for; the download then starts again from byte zero.
var ErrNoRange = errors.New("the source cannot resume this download")

// Source opens the upstream file starting at byte offset (0 for the whole
// file). The body must start exactly at offset.
type Source func(ctx context.Context, offset int64) (io.ReadCloser, error)

// Request is one file to make available, verified, at Path.
type Request struct {
	// Path is the final cache path, named after what pins its content.
	Path string
	// Part and Lock default to Path+".part" and Path+".lock".
	Part, Lock string
	// Size is the exact size, or -1 when only the checks below pin it;
	// then MaxSize (required) bounds what is read.
	Size, MaxSize int64
	// SHA256 is the hex digest the content must have; "" = not checked
	// here (Verify must pin the content).
	SHA256 string
	// Verify runs on the complete file after the size and SHA-256 checks;
	// nil = none.
	Verify func(path string) error
	// Open reads the upstream file.
	Open Source
	// Logf gets one line when a cached file is found corrupt; nil = silent.
	Logf func(format string, args ...any)

	// overrun is the size of the last body that was longer than allowed
	// (its .part file keeps one byte too many, not the rest); overrunMore
	// says it was longer still than measured.
	overrun     int64
	overrunMore bool
}

// Result says where the verified file is and what reaching it cost.
type Result struct {
	Path string
	// Bytes is how many bytes crossed the network (0 for a cache hit).
	Bytes int64
	// Cached is true when the file was already in the cache.
	Cached bool
}

// Fetch returns r.Path once it holds the verified file, downloading (or
// resuming) it if needed. A cached file is verified on every call, since
// hashing is far cheaper than the download it saves and the cache
// directory is part of the chain of trust.
func Fetch(ctx context.Context, r Request) (Result, error) {
	r.defaults()
	if r.Size < 0 && r.MaxSize <= 0 {
		return Result{}, errors.New("download: a request without a size needs MaxSize")
	}
	if r.check(r.Path) == nil {
		return Result{Path: r.Path, Cached: true}, nil
	}
	if err := os.MkdirAll(filepath.Dir(r.Path), 0o755); err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(filepath.Dir(r.Lock), 0o755); err != nil {
		return Result{}, err
	}
	// One downloader per file across processes; the others wait for it
	// and then find the file in the cache.
	unlock, err := flock.Lock(ctx, r.Lock, flock.Exclusive)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	if err := r.check(r.Path); err == nil {
		return Result{Path: r.Path, Cached: true}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		r.logf("cached %s is corrupt (%v); fetching it again", r.Path, err)
		if err := os.Remove(r.Path); err != nil {
			return Result{}, err
		}
	}
	n, err := r.fetchPart(ctx)
	if err != nil {
		return Result{Path: r.Path, Bytes: n}, err
	}
	if err := commit(r.Part, r.Path); err != nil {
		return Result{Path: r.Path, Bytes: n}, err
	}
	return Result{Path: r.Path, Bytes: n}, nil
}

func (r *Request) defaults() {
	if r.Part == "" {
		r.Part = r.Path + ".part"
	}
	if r.Lock == "" {
		r.Lock = r.Path + ".lock"
	}
}

func (r *Request) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// fetchPart completes and verifies the .part file. Bytes kept from an
// earlier run are trusted only as far as the final checks go: if the
// resumed file fails them, it is fetched once more from byte zero.
func (r *Request) fetchPart(ctx context.Context) (int64, error) {
	resumed, n, err := r.transfer(ctx)
	if err != nil {
		return n, err
	}
	err = r.check(r.Part)
	if err != nil && resumed {
		r.logf("resumed %s failed verification (%v); fetching it again from the start", r.Part, err)
		os.Remove(r.Part)
		var m int64
		_, m, err = r.transfer(ctx)
		n += m
		if err == nil {
			err = r.check(r.Part)
		}
	}
	if err != nil {
		os.Remove(r.Part) // bad bytes: never resume from them
		return n, err
	}
	return n, nil
}

// commit syncs part and renames it to path, readable by all, then syncs
// the directory, so a crash cannot leave a torn file under a final name.
func commit(part, path string) error {
	f, err := os.OpenFile(part, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Chmod(0o644)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(part, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
