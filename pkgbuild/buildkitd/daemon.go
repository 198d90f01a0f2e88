package buildkitd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/lkpkg/lkpkg/internal/flock"
)

// Daemon is the embedded buildkitd that lkpkg starts on demand and reuses
// across invocations.
type Daemon struct {
	StateDir string    // holds root/, buildkitd.sock, buildkitd.pid, buildkitd.log, start.lock, use.lock; must be set
	Binary   string    // buildkitd path; "" = FindBinary()
	Log      io.Writer // where to announce a daemon start (and tolerated version mismatches); may be nil

	// AllowVersionMismatch lets Ensure and Acquire use a daemon whose
	// BuildKit version is not PinnedVersion() (--allow-builder-version-mismatch).
	AllowVersionMismatch bool
}

// ErrInUse is wrapped by the errors Stop and Prune(all) return while other
// lkpkg processes (or this one) hold a use lease from Acquire.
var ErrInUse = errors.New("the local buildkitd is in use by other lkpkg processes")

// Status describes the local builder.
type Status struct {
	Running bool
	Address string
	PID     int
	Workers []*client.WorkerInfo
	Version string
}

const (
	reuseTimeout = 2 * time.Second
	startTimeout = 60 * time.Second
	stopTimeout  = 20 * time.Second
	pollInterval = 100 * time.Millisecond
)

func (l *Daemon) path(name string) string { return filepath.Join(l.StateDir, name) }
func (l *Daemon) sockPath() string        { return l.path("buildkitd.sock") }

// Address is the unix socket the local buildkitd listens on.
func (l *Daemon) Address() string { return "unix://" + l.sockPath() }

// checkStateDir refuses an empty StateDir: every path would be relative to
// the working directory, which is not ours to trust.
func (l *Daemon) checkStateDir() error {
	if l.StateDir != "" {
		return nil
	}
	if _, err := DefaultStateDir(); err != nil {
		return fmt.Errorf("local builder: no state directory: %w", err)
	}
	return errors.New("local builder: no state directory (Daemon.StateDir is empty)")
}

// Ensure returns the address of a running local buildkitd, starting it if
// needed. The start lock makes concurrent lkpkg processes agree on a single
// daemon: the first one starts it, the rest wait and reuse it.
//
// The daemon must run the pinned BuildKit version (see CheckVersion) unless
// AllowVersionMismatch is set. Ensure does not protect the daemon from Stop
// or Prune(all) by another process; builds should use Acquire.
func (l *Daemon) Ensure(ctx context.Context) (string, error) {
	if err := l.checkStateDir(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(l.StateDir, 0o700); err != nil {
		return "", fmt.Errorf("local builder: %w", err)
	}
	unlock, err := flock.Lock(ctx, l.path("start.lock"), flock.Exclusive)
	if err != nil {
		return "", fmt.Errorf("local builder: %w", err)
	}
	defer unlock()

	addr := l.Address()
	if c := l.reuse(ctx, reuseTimeout); c != nil {
		defer c.Close()
		return addr, l.checkVersion(ctx, c, false)
	}
	// A daemon from an earlier start may still be coming up (its starter
	// gave up or was interrupted): wait for it instead of starting a rival
	// on the same root.
	if pid := l.runningPID(); pid != 0 {
		if err := l.waitReady(ctx, func() bool { return l.runningPID() == 0 }); err != nil {
			return addr, err
		}
		return addr, l.checkRunningVersion(ctx, false)
	}
	bin, err := l.checkPrereqs()
	if err != nil {
		return "", err
	}
	if err := l.start(ctx, bin); err != nil {
		return "", err
	}
	if err := l.checkRunningVersion(ctx, true); err != nil {
		// Don't leave a wrong daemon behind for the next Ensure to reuse:
		// after `make`, the next start should pick up the right binary.
		if pid := l.runningPID(); pid != 0 {
			terminate(ctx, pid, stopTimeout, l.isOurs)
			os.Remove(l.path("buildkitd.pid"))
			os.Remove(l.sockPath())
		}
		return "", err
	}
	return addr, nil
}

// Acquire is Ensure plus a use lease: until release is called, Stop and
// Prune(all) (by any lkpkg process) refuse to act on the daemon. Builds on
// the local builder should hold a lease for their whole duration. release
// is never nil (a no-op on error) and may be called more than once.
//
// The lease is a shared flock on StateDir/use.lock, taken before Ensure so
// that no Stop can slip in between the daemon being ready and the lease.
func (l *Daemon) Acquire(ctx context.Context) (addr string, release func(), err error) {
	noop := func() {}
	if err := l.checkStateDir(); err != nil {
		return "", noop, err
	}
	if err := os.MkdirAll(l.StateDir, 0o700); err != nil {
		return "", noop, fmt.Errorf("local builder: %w", err)
	}
	// Blocks only while a Stop or Prune(all) holds the lock exclusively.
	unlock, err := flock.Lock(ctx, l.path("use.lock"), flock.Shared)
	if err != nil {
		return "", noop, fmt.Errorf("local builder: %w", err)
	}
	addr, err = l.Ensure(ctx)
	if err != nil {
		unlock()
		return "", noop, err
	}
	var once sync.Once
	return addr, func() { once.Do(unlock) }, nil
}

// lockUnused takes use.lock exclusively without waiting, proving no build
// holds a lease; the caller holds it while it stops or prunes. what says
// what the caller is about to do, for the error.
func (l *Daemon) lockUnused(what string) (unlock func(), err error) {
	unlock, err = flock.TryLock(l.path("use.lock"), flock.Exclusive)
	if errors.Is(err, flock.ErrBusy) {
		return nil, fmt.Errorf("local builder: %w; retry when they finish, or pass --force to %s anyway", ErrInUse, what)
	}
	if err != nil {
		return nil, fmt.Errorf("local builder: %w", err)
	}
	return unlock, nil
}

// checkRunningVersion connects to the (ready) local daemon and checks its
// version; started says whether this Ensure started it.
func (l *Daemon) checkRunningVersion(ctx context.Context, started bool) error {
	c, err := dial(ctx, l.Address(), TLS{}, reuseTimeout)
	if err != nil {
		return fmt.Errorf("local builder: %w", err)
	}
	defer c.Close()
	return l.checkVersion(ctx, c, started)
}

func (l *Daemon) checkVersion(ctx context.Context, c *client.Client, started bool) error {
	_, err := CheckVersion(ctx, c)
	if err == nil {
		return nil
	}
	if l.AllowVersionMismatch && errors.Is(err, ErrVersionMismatch) {
		if l.Log != nil {
			fmt.Fprintf(l.Log, "warning: local buildkitd: %v\n", err)
		}
		return nil
	}
	if started {
		return fmt.Errorf("local builder: %w", err)
	}
	return fmt.Errorf("local builder: the running daemon (state %s) was started earlier; %w "+
		"(stop the running daemon with `lkpkg builder stop` so the rebuilt one is started)", l.StateDir, err)
}

// Status reports whether the local builder answers, and what it runs.
func (l *Daemon) Status(ctx context.Context) (Status, error) {
	st := Status{Address: l.Address(), PID: l.runningPID()}
	c, err := dial(ctx, st.Address, TLS{}, reuseTimeout)
	if err != nil {
		return st, nil // not running is a state, not an error
	}
	defer c.Close()
	st.Running = true
	if st.Workers, err = c.ListWorkers(ctx); err != nil {
		return st, fmt.Errorf("local builder: list workers: %w", err)
	}
	if info, err := c.Info(ctx); err == nil {
		st.Version = info.BuildkitVersion.Version
	} else if len(st.Workers) > 0 {
		st.Version = st.Workers[0].BuildkitVersion.Version
	}
	return st, nil
}

// StopOptions control Stop.
type StopOptions struct {
	// WhileInUse stops the daemon even while builds hold a use lease
	// (Acquire); those builds then fail. `lkpkg builder stop --force`.
	WhileInUse bool
}

// Stop terminates the local buildkitd: SIGTERM, then SIGKILL after 20s. It
// reports whether a daemon was running; not running is not an error.
//
// While a build holds a use lease (Acquire), Stop leaves the daemon alone
// and returns an error wrapping ErrInUse (with was = true), unless
// opts.WhileInUse.
func (l *Daemon) Stop(ctx context.Context, opts StopOptions) (bool, error) {
	return l.stop(ctx, opts.WhileInUse)
}

func (l *Daemon) stop(ctx context.Context, whileInUse bool) (bool, error) {
	if err := l.checkStateDir(); err != nil {
		return false, err
	}
	if _, err := os.Stat(l.StateDir); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	// Hold the start lock so no Ensure races us into a half-dead daemon.
	unlock, err := flock.Lock(ctx, l.path("start.lock"), flock.Exclusive)
	if err != nil {
		return false, fmt.Errorf("local builder: %w", err)
	}
	defer unlock()

	pid := l.runningPID()
	if pid == 0 {
		os.Remove(l.path("buildkitd.pid"))
		return false, nil
	}
	if !whileInUse {
		// Holding use.lock exclusively also makes new Acquire calls wait
		// until the daemon is gone, then start a fresh one.
		unuse, err := l.lockUnused("stop it")
		if err != nil {
			return true, err
		}
		defer unuse()
	}
	if err := terminate(ctx, pid, stopTimeout, l.isOurs); err != nil {
		return true, fmt.Errorf("local builder: stop pid %d: %w", pid, err)
	}
	os.Remove(l.path("buildkitd.pid"))
	os.Remove(l.sockPath())
	return true, nil
}

// PruneOptions control Prune.
type PruneOptions struct {
	// All removes the whole build cache, not only unused intermediate
	// results.
	All bool
	// WhileInUse prunes everything (All) even while builds hold a use
	// lease (Acquire). `lkpkg builder prune --all --force`.
	WhileInUse bool
}

// Prune frees the local builder's cache and returns the bytes released.
// Prune with All refuses, with an error wrapping ErrInUse, while a build
// holds a use lease (Acquire), unless opts.WhileInUse.
func (l *Daemon) Prune(ctx context.Context, opts PruneOptions) (int64, error) {
	return l.prune(ctx, opts.All, opts.WhileInUse)
}

func (l *Daemon) prune(ctx context.Context, all, whileInUse bool) (int64, error) {
	if err := l.checkStateDir(); err != nil {
		return 0, err
	}
	if !l.answers(ctx, reuseTimeout) {
		return 0, errors.New("local builder is not running")
	}
	if all && !whileInUse {
		unuse, err := l.lockUnused("prune everything")
		if err != nil {
			return 0, err
		}
		defer unuse()
	}
	c, err := Connect(ctx, l.Address(), TLS{})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var opts []client.PruneOption
	if all {
		opts = append(opts, client.PruneAll)
	}
	ch := make(chan client.UsageInfo)
	sum := make(chan int64)
	go func() {
		var n int64
		for u := range ch {
			n += u.Size
		}
		sum <- n
	}()
	err = c.Prune(ctx, ch, opts...)
	close(ch)
	freed := <-sum
	if err != nil {
		return freed, fmt.Errorf("local builder: prune: %w", err)
	}
	return freed, nil
}

// answers reports whether a buildkitd replies on the local socket.
func (l *Daemon) answers(ctx context.Context, timeout time.Duration) bool {
	c := l.reuse(ctx, timeout)
	if c != nil {
		c.Close()
	}
	return c != nil
}

// reuse returns a client for the local socket if a buildkitd replies on it,
// else nil.
func (l *Daemon) reuse(ctx context.Context, timeout time.Duration) *client.Client {
	if _, err := os.Stat(l.sockPath()); err != nil {
		return nil // skip the gRPC dial when there is nothing to dial
	}
	c, err := client.New(ctx, l.Address())
	if err != nil {
		return nil
	}
	if ping(ctx, c, timeout) != nil {
		c.Close()
		return nil
	}
	return c
}
