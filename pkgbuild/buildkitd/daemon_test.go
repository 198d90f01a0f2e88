package buildkitd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/platforms"
	"golang.org/x/sys/unix"
)

// testBinary returns the buildkitd to test with. Integration tests must not
// silently pass without it, so a missing binary fails the test.
func testBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("LKPKG_BUILDKITD")
	if p == "" {
		var err error
		if p, err = filepath.Abs(filepath.Join("..", "bin", "buildkitd")); err != nil {
			t.Fatal(err)
		}
	}
	if !isExecutable(p) {
		t.Fatalf("buildkitd not found at %s (set $LKPKG_BUILDKITD or run `make`); use -short to skip integration tests", p)
	}
	return p
}

// tempStateDir is short because unix socket paths must stay under 108 bytes.
// Cleanup stops any daemon left behind, even if the test failed midway.
func tempStateDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lkb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l := &Daemon{StateDir: dir}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Force: a test that failed while holding a use lease must not
		// leave its daemon behind.
		if _, err := l.Stop(ctx, StopOptions{WhileInUse: true}); err != nil {
			t.Errorf("cleanup stop: %v", err)
			if pid := l.runningPID(); pid != 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return dir
}

// realDaemon is a Daemon on the built buildkitd with a fresh state
// directory; it skips the test under -short.
func realDaemon(t *testing.T) (l *Daemon, bin, dir string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real buildkitd")
	}
	bin, dir = testBinary(t), tempStateDir(t)
	return &Daemon{StateDir: dir, Binary: bin}, bin, dir
}

func TestLocalIntegration(t *testing.T) {
	l, bin, dir := realDaemon(t)
	ctx := context.Background()

	var out bytes.Buffer
	l.Log = &out

	start := time.Now()
	addr, err := l.Ensure(ctx)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	t.Logf("first Ensure (cold start): %s", time.Since(start))
	if addr != l.Address() || addr != "unix://"+dir+"/buildkitd.sock" {
		t.Fatalf("Ensure address %q, Address() %q", addr, l.Address())
	}
	if !strings.Contains(out.String(), "starting local buildkitd (state "+dir+")") {
		t.Errorf("Log = %q, want a start message", out.String())
	}

	st, err := l.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if !st.Running || st.PID == 0 || st.Address != addr || st.Version == "" {
		t.Fatalf("Status = %+v, want running with pid and version", st)
	}
	// Ensure checked it; bin/buildkitd built by `make` reports the pin.
	if st.Version != PinnedVersion() {
		t.Errorf("Status.Version = %q, want the pinned %q", st.Version, PinnedVersion())
	}
	if !hasPlatform(st, "linux/amd64") {
		t.Fatalf("workers %+v do not list linux/amd64", st.Workers)
	}
	pid := st.PID
	// Detached: its own session, so lkpkg's terminal signals don't reach it.
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("buildkitd session id = %d, %v; want its own session %d", sid, err, pid)
	}

	out.Reset()
	start = time.Now()
	if _, err := l.Ensure(ctx); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	t.Logf("second Ensure (reuse): %s", time.Since(start))
	if out.Len() != 0 {
		t.Errorf("second Ensure started a daemon: %q", out.String())
	}
	if st, _ := l.Status(ctx); st.PID != pid {
		t.Fatalf("second Ensure: pid %d, want reused %d", st.PID, pid)
	}

	if _, err := l.Prune(ctx, PruneOptions{All: true}); err != nil {
		t.Fatalf("Prune: %v", err)
	}

	if was, err := l.Stop(ctx, StopOptions{}); err != nil || !was {
		t.Fatalf("Stop = %v, %v; want true, nil", was, err)
	}
	if st, err := l.Status(ctx); err != nil || st.Running || st.PID != 0 {
		t.Fatalf("Status after Stop = %+v, %v; want not running", st, err)
	}
	if was, err := l.Stop(ctx, StopOptions{}); err != nil || was {
		t.Fatalf("second Stop = %v, %v; want false, nil", was, err)
	}
	if _, err := l.Prune(ctx, PruneOptions{}); err == nil || !strings.Contains(err.Error(), "local builder is not running") {
		t.Fatalf("Prune when stopped: err = %v", err)
	}

	t.Run("concurrent Ensure starts one daemon", func(t *testing.T) {
		const n = 6
		var (
			wg    sync.WaitGroup
			logs  [n]bytes.Buffer
			errs  [n]error
			start = time.Now()
		)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = (&Daemon{StateDir: dir, Binary: bin, Log: &logs[i]}).Ensure(ctx)
			})
		}
		wg.Wait()
		t.Logf("%d concurrent Ensure: %s", n, time.Since(start))
		starts := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("Ensure #%d: %v", i, errs[i])
			}
			starts += strings.Count(logs[i].String(), "starting local buildkitd")
		}
		if starts != 1 {
			t.Errorf("%d goroutines announced a start, want exactly 1", starts)
		}
		if got := daemonsServing(t, l.sockPath()); len(got) != 1 {
			t.Fatalf("buildkitd processes serving %s: %v, want exactly one", l.sockPath(), got)
		}
		st, err := l.Status(ctx)
		if err != nil || !st.Running {
			t.Fatalf("Status = %+v, %v", st, err)
		}
		if got := daemonsServing(t, l.sockPath()); got[0] != st.PID {
			t.Fatalf("running pid %d, pid file says %d", got[0], st.PID)
		}
		if was, err := l.Stop(ctx, StopOptions{}); err != nil || !was {
			t.Fatalf("Stop = %v, %v", was, err)
		}
		if got := daemonsServing(t, l.sockPath()); len(got) != 0 {
			t.Fatalf("after Stop still running: %v", got)
		}
	})
}

func hasPlatform(st Status, want string) bool {
	for _, w := range st.Workers {
		for _, p := range w.Platforms {
			if platforms.Format(platforms.Normalize(p)) == want {
				return true
			}
		}
	}
	return false
}

// daemonsServing lists live processes whose command line names sock, to
// prove there is exactly one daemon regardless of what the pid file says.
func daemonsServing(t *testing.T, sock string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	l := &Daemon{StateDir: filepath.Dir(sock)}
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		if l.isOurs(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestEnsurePrerequisites(t *testing.T) {
	t.Run("no runc in PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		l := &Daemon{StateDir: tempStateDir(t), Binary: filepath.Join(t.TempDir(), "no-buildkitd")}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := l.Ensure(ctx)
		if err == nil {
			t.Fatal("Ensure succeeded without runc")
		}
		msg := err.Error()
		// All failing prerequisites are reported together.
		for _, want := range []string{"runc", "apt-get install runc", "no-buildkitd", "run `make`"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error does not mention %q:\n%s", want, msg)
			}
		}
		t.Logf("%v", err)
	})
}

func TestEnsureReportsEarlyExit(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the embedded builder's prerequisites")
	}
	testBinary(t) // the integration environment must be complete
	fake := filepath.Join(t.TempDir(), "buildkitd")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'boom: cannot start' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	l := &Daemon{StateDir: tempStateDir(t), Binary: fake}
	start := time.Now()
	_, err := l.Ensure(context.Background())
	if err == nil {
		t.Fatal("Ensure succeeded with a daemon that exits")
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("early exit noticed after %s", el)
	}
	for _, want := range []string{"exited during startup", "buildkitd.log", "boom: cannot start"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if pid := l.runningPID(); pid != 0 {
		t.Errorf("pid file still names live pid %d", pid)
	}
}
