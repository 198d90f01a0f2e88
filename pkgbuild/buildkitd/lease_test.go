package buildkitd

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/internal/flock"
)

// TestUseLease shows that builds holding a lease (Acquire) keep Stop and
// Prune(all) away from the daemon, and that StopOptions.WhileInUse still
// stops it.
func TestUseLease(t *testing.T) {
	l, bin, dir := realDaemon(t)
	ctx := context.Background()

	addr, release, err := l.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if addr != l.Address() {
		t.Fatalf("Acquire address %q, want %q", addr, l.Address())
	}
	// Leases are shared: a second build (here another Daemon on the same
	// state, as another lkpkg process would be) gets one too.
	addr2, release2, err := (&Daemon{StateDir: dir, Binary: bin}).Acquire(ctx)
	if err != nil || addr2 != addr {
		t.Fatalf("second Acquire = %q, %v", addr2, err)
	}
	pid := l.runningPID()
	if pid == 0 {
		t.Fatal("no daemon after Acquire")
	}

	other := &Daemon{StateDir: dir} // e.g. `lkpkg builder stop` in another shell
	was, err := other.Stop(ctx, StopOptions{})
	if !errors.Is(err, ErrInUse) || !was {
		t.Fatalf("Stop while leased = %v, %v; want true, ErrInUse", was, err)
	}
	for _, want := range []string{"in use by other lkpkg processes", "retry when they finish", "--force"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Stop error does not mention %q: %v", want, err)
		}
	}
	if _, err := other.Prune(ctx, PruneOptions{All: true}); !errors.Is(err, ErrInUse) {
		t.Fatalf("Prune(all) while leased: err = %v, want ErrInUse", err)
	}
	if _, err := other.Prune(ctx, PruneOptions{}); err != nil {
		t.Fatalf("Prune (unused only) while leased: %v", err)
	}
	if got := l.runningPID(); got != pid || !l.answers(ctx, time.Second) {
		t.Fatalf("daemon disturbed while leased: pid %d (was %d)", got, pid)
	}

	release()
	release() // idempotent
	if _, err := other.Stop(ctx, StopOptions{}); !errors.Is(err, ErrInUse) {
		t.Fatalf("Stop with one lease left: err = %v, want ErrInUse", err)
	}
	release2()

	if _, err := other.Prune(ctx, PruneOptions{All: true}); err != nil {
		t.Fatalf("Prune(all) after release: %v", err)
	}
	if was, err := other.Stop(ctx, StopOptions{}); err != nil || !was {
		t.Fatalf("Stop after release = %v, %v; want true, nil", was, err)
	}
	if len(daemonsServing(t, l.sockPath())) != 0 {
		t.Fatal("daemon still running after Stop")
	}

	t.Run("WhileInUse ignores leases", func(t *testing.T) {
		_, release, err := l.Acquire(ctx)
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		defer release()
		if _, err := other.Prune(ctx, PruneOptions{All: true, WhileInUse: true}); err != nil {
			t.Fatalf("Prune(All, WhileInUse) while leased: %v", err)
		}
		if was, err := other.Stop(ctx, StopOptions{WhileInUse: true}); err != nil || !was {
			t.Fatalf("Stop(WhileInUse) while leased = %v, %v; want true, nil", was, err)
		}
		if len(daemonsServing(t, l.sockPath())) != 0 {
			t.Fatal("daemon still running after Stop(WhileInUse)")
		}
		// A stopped daemon is not an error even while leased.
		if was, err := other.Stop(ctx, StopOptions{}); err != nil || was {
			t.Fatalf("Stop of a stopped daemon while leased = %v, %v; want false, nil", was, err)
		}
	})
}

// While a Stop (or Prune(all)) holds use.lock exclusively, Acquire waits
// rather than handing out a daemon that is being torn down.
func TestAcquireWaitsForStop(t *testing.T) {
	l := &Daemon{StateDir: t.TempDir()}
	unlock, err := l.lockUnused("stop it")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, release, err := l.Acquire(ctx)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "use.lock") {
		t.Fatalf("Acquire during Stop: err = %v, want a wait on use.lock that times out", err)
	}
	release() // a no-op, but never nil
	unlock()
	if u, err := l.lockUnused("stop it"); err != nil {
		t.Fatalf("lock after a failed Acquire: %v", err)
	} else {
		u()
	}
}

const holdLeaseEnv = "LKPKG_TEST_HOLD_USE_LOCK"

// TestHelperHoldLease is not a test: TestLeaseAcrossProcesses runs the test
// binary with it to hold a use lease in another process.
func TestHelperHoldLease(t *testing.T) {
	dir := os.Getenv(holdLeaseEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	unlock, err := flock.Lock(context.Background(), (&Daemon{StateDir: dir}).path("use.lock"), flock.Shared)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	os.Stdout.WriteString("held\n")
	bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
}

// The lease is a flock, so it works between processes, not only goroutines.
func TestLeaseAcrossProcesses(t *testing.T) {
	l := &Daemon{StateDir: t.TempDir()}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLease$")
	cmd.Env = append(os.Environ(), holdLeaseEnv+"="+l.StateDir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "held\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	if _, err := l.lockUnused("stop it"); !errors.Is(err, ErrInUse) {
		t.Fatalf("while another process holds a lease: err = %v, want ErrInUse", err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	unlock, err := l.lockUnused("stop it")
	if err != nil {
		t.Fatalf("after the other process exited: %v", err)
	}
	unlock()
}

// An empty StateDir (no user cache directory) must fail clearly instead of
// using paths relative to the working directory.
func TestEmptyStateDir(t *testing.T) {
	t.Setenv("LKPKG_BUILDER_DIR", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	wd := t.TempDir()
	t.Chdir(wd)
	ctx := context.Background()
	dir, _ := DefaultStateDir()
	l := &Daemon{StateDir: dir}
	if l.StateDir != "" {
		t.Fatalf("DefaultStateDir() = %q with no $HOME", l.StateDir)
	}
	check := func(name string, err error) {
		t.Helper()
		want := "no user cache directory: set $HOME, $XDG_CACHE_HOME or $LKPKG_BUILDER_DIR"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, want)
		}
	}
	_, err := l.Ensure(ctx)
	check("Ensure", err)
	_, release, err := l.Acquire(ctx)
	check("Acquire", err)
	release()
	_, err = l.Stop(ctx, StopOptions{})
	check("Stop", err)
	_, err = l.Prune(ctx, PruneOptions{All: true})
	check("Prune", err)
	if ents, _ := os.ReadDir(wd); len(ents) != 0 {
		t.Errorf("files created in the working directory: %v", ents)
	}

	// Set, but not through the environment: still refused, differently.
	t.Setenv("HOME", "/x/home")
	if _, err := l.Ensure(ctx); err == nil || !strings.Contains(err.Error(), "Daemon.StateDir is empty") {
		t.Errorf("Ensure with StateDir \"\": err = %v", err)
	}
}
