package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/buildkit/client"
)

// Local is the embedded buildkitd that lkpkg starts on demand and reuses
// across invocations.
type Local struct {
	StateDir string    // holds root/, buildkitd.sock, buildkitd.pid, buildkitd.log, start.lock
	Binary   string    // buildkitd path; "" = FindBinary()
	Log      io.Writer // where to announce a daemon start; may be nil
}

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

func (l *Local) path(name string) string { return filepath.Join(l.StateDir, name) }
func (l *Local) sockPath() string        { return l.path("buildkitd.sock") }

// Address is the unix socket the local buildkitd listens on.
func (l *Local) Address() string { return "unix://" + l.sockPath() }

// Ensure returns the address of a running local buildkitd, starting it if
// needed. The start lock makes concurrent lkpkg processes agree on a single
// daemon: the first one starts it, the rest wait and reuse it.
func (l *Local) Ensure(ctx context.Context) (string, error) {
	if err := os.MkdirAll(l.StateDir, 0o700); err != nil {
		return "", fmt.Errorf("local builder: %w", err)
	}
	unlock, err := lockFile(ctx, l.path("start.lock"))
	if err != nil {
		return "", fmt.Errorf("local builder: %w", err)
	}
	defer unlock()

	addr := l.Address()
	if l.answers(ctx, reuseTimeout) {
		return addr, nil
	}
	// A daemon from an earlier start may still be coming up (its starter
	// gave up or was interrupted): wait for it instead of starting a rival
	// on the same root.
	if pid := l.runningPID(); pid != 0 {
		return addr, l.waitReady(ctx, func() bool { return l.runningPID() == 0 })
	}
	bin, err := l.checkPrereqs()
	if err != nil {
		return "", err
	}
	if err := l.start(ctx, bin); err != nil {
		return "", err
	}
	return addr, nil
}

// Status reports whether the local builder answers, and what it runs.
func (l *Local) Status(ctx context.Context) (Status, error) {
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

// Stop terminates the local buildkitd: SIGTERM, then SIGKILL after 20s. It
// reports whether a daemon was running; not running is not an error.
func (l *Local) Stop(ctx context.Context) (bool, error) {
	if _, err := os.Stat(l.StateDir); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	// Hold the start lock so no Ensure races us into a half-dead daemon.
	unlock, err := lockFile(ctx, l.path("start.lock"))
	if err != nil {
		return false, fmt.Errorf("local builder: %w", err)
	}
	defer unlock()

	pid := l.runningPID()
	if pid == 0 {
		os.Remove(l.path("buildkitd.pid"))
		return false, nil
	}
	if err := terminate(ctx, pid, stopTimeout, l.isOurs); err != nil {
		return true, fmt.Errorf("local builder: stop pid %d: %w", pid, err)
	}
	os.Remove(l.path("buildkitd.pid"))
	os.Remove(l.sockPath())
	return true, nil
}

// Prune frees the local builder's cache (all of it when all is set) and
// returns the bytes released.
func (l *Local) Prune(ctx context.Context, all bool) (int64, error) {
	if !l.answers(ctx, reuseTimeout) {
		return 0, errors.New("local builder is not running")
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
func (l *Local) answers(ctx context.Context, timeout time.Duration) bool {
	if _, err := os.Stat(l.sockPath()); err != nil {
		return false // skip the gRPC dial when there is nothing to dial
	}
	c, err := client.New(ctx, l.Address())
	if err != nil {
		return false
	}
	defer c.Close()
	return ping(ctx, c, timeout) == nil
}
