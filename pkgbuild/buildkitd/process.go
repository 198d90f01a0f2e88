package buildkitd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// checkPrereqs reports every missing prerequisite at once, so the user can
// fix them all in one go, and returns the buildkitd binary to run.
func (l *Daemon) checkPrereqs() (string, error) {
	var problems []string
	if _, err := exec.LookPath("runc"); err != nil {
		problems = append(problems, "runc is not in PATH; install it: make deps / apt-get install runc")
	}
	if os.Geteuid() != 0 {
		problems = append(problems, "not running as root; rootless buildkitd is not supported by the embedded builder; use --builder to point at one")
	}
	if !hasOverlay() {
		problems = append(problems, "the overlay filesystem is missing from /proc/filesystems; load it: modprobe overlay")
	}
	bin := l.Binary
	if bin == "" {
		var err error
		if bin, err = FindBinary(); err != nil {
			problems = append(problems, err.Error())
		}
	} else if !isExecutable(bin) {
		problems = append(problems, fmt.Sprintf("buildkitd binary %s is missing or not executable (is $%s right?); run `make` to build bin/buildkitd", bin, BinaryEnv))
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("cannot start the local buildkitd:\n  - %s", strings.Join(problems, "\n  - "))
	}
	return bin, nil
}

func hasOverlay() bool {
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "overlay" {
			return true
		}
	}
	return false
}

// start launches buildkitd in its own session so it outlives lkpkg (and
// its terminal's signals), then waits until it answers.
func (l *Daemon) start(ctx context.Context, bin string) error {
	logPath := l.path("buildkitd.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("local builder: %w", err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return fmt.Errorf("local builder: %w", err)
	}
	defer devnull.Close()

	// A stale socket from a crashed daemon would make our readiness check
	// look at the wrong thing.
	os.Remove(l.sockPath())
	if l.Log != nil {
		fmt.Fprintf(l.Log, "starting local buildkitd (state %s)\n", l.StateDir)
	}
	fmt.Fprintf(logf, "--- lkpkg: starting %s at %s\n", bin, time.Now().Format(time.RFC3339))

	cmd := exec.Command(bin,
		"--root", l.path("root"),
		"--addr", l.Address(),
		"--oci-worker=true",
		"--containerd-worker=false",
		// Keep the trace socket private so we never collide with a system
		// buildkitd's /run/buildkit.
		"--otel-socket-path", l.path("otel-grpc.sock"),
	)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("local builder: start %s: %w", bin, err)
	}
	pid := cmd.Process.Pid
	if err := os.WriteFile(l.path("buildkitd.pid"), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		cmd.Process.Kill()
		return fmt.Errorf("local builder: %w", err)
	}
	// Reap the child if it dies while we still exist; this also tells us it
	// exited early.
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()

	err = l.waitReady(ctx, func() bool {
		select {
		case <-exited:
			return true
		default:
			return false
		}
	})
	if err != nil && ctx.Err() == nil {
		// A daemon that never became ready is of no use; don't leave it
		// holding the root for the next attempt.
		cmd.Process.Kill()
		os.Remove(l.path("buildkitd.pid"))
	}
	return err
}

// waitReady polls the socket until buildkitd answers, the process is gone,
// or startTimeout passes. Failures carry the tail of buildkitd.log.
func (l *Daemon) waitReady(ctx context.Context, gone func() bool) error {
	deadline := time.Now().Add(startTimeout)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		if l.answers(ctx, time.Second) {
			return nil
		}
		if gone() {
			return l.startErr("buildkitd exited during startup")
		}
		if time.Now().After(deadline) {
			return l.startErr(fmt.Sprintf("buildkitd did not answer within %s", startTimeout))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("local builder: waiting for buildkitd: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (l *Daemon) startErr(what string) error {
	logPath := l.path("buildkitd.log")
	return fmt.Errorf("local builder: %s; last lines of %s:\n%s", what, logPath, tail(logPath, 20))
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "  (" + err.Error() + ")"
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, "  "+sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// runningPID returns the pid from buildkitd.pid if that process is alive
// and is our buildkitd, else 0. Checking the command line guards against
// the pid having been reused by an unrelated process.
func (l *Daemon) runningPID() int {
	b, err := os.ReadFile(l.path("buildkitd.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !l.isOurs(pid) {
		return 0
	}
	return pid
}

// isOurs reports whether pid is a live (non-zombie) buildkitd serving our
// socket.
func (l *Daemon) isOurs(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name; Z = zombie.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	return bytes.Contains(cmdline, []byte(l.sockPath()))
}

// terminate sends SIGTERM, waits up to grace for alive(pid) to turn false,
// then SIGKILLs and waits a little more.
func terminate(ctx context.Context, pid int, grace time.Duration, alive func(int) bool) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	if waitGone(ctx, pid, grace, alive) {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	if waitGone(ctx, pid, 5*time.Second, alive) {
		return nil
	}
	return fmt.Errorf("still alive after SIGKILL")
}

func waitGone(ctx context.Context, pid int, d time.Duration, alive func(int) bool) bool {
	deadline := time.Now().Add(d)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pollInterval):
		}
	}
	return true
}
