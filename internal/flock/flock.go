// Package flock takes advisory file locks (flock(2)) that honour a
// context: every lock lkpkg holds on a shared cache or state directory
// goes through here, so waiting, cancellation and EINTR behave the same
// everywhere.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Poll is how often a busy lock is tried again. flock(2) cannot be
// interrupted by a context, so waiting polls LOCK_NB instead of blocking.
const Poll = 50 * time.Millisecond

// Mode is the kind of lock.
type Mode int

const (
	Exclusive Mode = unix.LOCK_EX
	Shared    Mode = unix.LOCK_SH
)

// ErrBusy is returned by TryLock when another holder has the lock.
var ErrBusy = errors.New("lock is held by another process")

// Lock opens (creating) path and takes a lock of the given mode on it,
// waiting until it is free or ctx is done. The returned unlock releases
// it; calling it more than once is harmless. flock locks belong to the
// open file, so two Locks in one process exclude each other too.
func Lock(ctx context.Context, path string, mode Mode) (unlock func(), err error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	for {
		if err := ctx.Err(); err != nil {
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, err)
		}
		err := try(f, mode)
		if err == nil {
			return release(f), nil
		}
		if !errors.Is(err, ErrBusy) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(Poll):
		}
	}
}

// TryLock is Lock without waiting: it returns ErrBusy (wrapped) at once
// if the lock is held.
func TryLock(path string, mode Mode) (unlock func(), err error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	if err := try(f, mode); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return release(f), nil
}

func open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	return f, nil
}

// try takes the lock without blocking, retrying a call interrupted by a
// signal (EINTR) and reporting a held lock as ErrBusy.
func try(f *os.File, mode Mode) error {
	for {
		err := unix.Flock(int(f.Fd()), int(mode)|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return ErrBusy
		default:
			return err
		}
	}
}

// release closes f, which drops the flock, once.
func release(f *os.File) func() {
	var once sync.Once
	return func() { once.Do(func() { f.Close() }) }
}
