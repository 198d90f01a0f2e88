package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// hostileInput is one attack on lkpkg: an input crafted to make it hang,
// exhaust memory or disk, reach outside its directories, or accept what it
// must refuse. TestHostileInputs runs each against the real binary and
// asserts the bound it must hit, so a new parser or writer inherits the
// attacks of the old ones. Cases live in hostile_*_test.go files, one per
// stage, and register themselves in init.
type hostileInput struct {
	name string
	// setup writes the input below dir and returns lkpkg's arguments.
	setup func(t *testing.T, dir string) []string
	// want are substrings the refusal on stderr must contain.
	want []string
	// Bounds; zero means hostileDefaults'. maxWritten counts disk blocks
	// under the case's directories (input excluded), sampled while lkpkg
	// runs and at its end.
	maxTime    time.Duration
	maxRSS     int64
	maxWritten int64
	// interruptAfter, if set, sends SIGTERM that long after the start:
	// lkpkg must then exit within a second, non-zero, leaving nothing
	// half-written.
	interruptAfter time.Duration
	// after checks what the attack must not have achieved.
	after func(t *testing.T, dir string)
}

// hostileDefaults are the bounds of a case that states none: generous for
// a refusal, far below what the attacks reach unfixed.
var hostileDefaults = hostileInput{maxTime: 30 * time.Second, maxRSS: 256 << 20, maxWritten: 64 << 20}

var hostileInputs []hostileInput

func registerHostile(cases ...hostileInput) { hostileInputs = append(hostileInputs, cases...) }

func TestHostileInputs(t *testing.T) {
	testenv.Integration(t)
	if len(hostileInputs) == 0 {
		t.Fatal("no hostile inputs registered")
	}
	for _, c := range hostileInputs {
		t.Run(c.name, func(t *testing.T) {
			c.withDefaults().run(t)
		})
	}
}

func (c hostileInput) withDefaults() hostileInput {
	if c.maxTime == 0 {
		c.maxTime = hostileDefaults.maxTime
	}
	if c.maxRSS == 0 {
		c.maxRSS = hostileDefaults.maxRSS
	}
	if c.maxWritten == 0 {
		c.maxWritten = hostileDefaults.maxWritten
	}
	return c
}

func (c hostileInput) run(t *testing.T) {
	l := newLKNoBuilder(t)
	l.ok("cache", "ls") // creates the cache
	before := snapshotCache(t, l.cache)
	input := t.TempDir()
	args := c.setup(t, input)
	work := t.TempDir() // TMPDIR and output directories
	l.extraEnv = append(l.extraEnv, "TMPDIR="+work)
	args = expandWork(args, work)

	// Twice the bounds is where a run is stopped, so a regression fails
	// the test instead of filling the machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*c.maxTime)
	defer cancel()
	cmd := l.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	base := diskUsage(l.cache, work)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var peakDisk, peakRSS atomic.Int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			d := diskUsage(l.cache, work) - base
			peakDisk.Store(max(peakDisk.Load(), d))
			peakRSS.Store(max(peakRSS.Load(), peakRSSOf(cmd.Process.Pid)))
			if d > 2*c.maxWritten || peakRSS.Load() > 2*c.maxRSS {
				cmd.Process.Kill()
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	var signalled time.Time
	if c.interruptAfter > 0 {
		timer := time.AfterFunc(c.interruptAfter, func() {
			signalled = time.Now()
			cmd.Process.Signal(syscall.SIGTERM)
		})
		defer timer.Stop()
	}
	err := cmd.Wait()
	elapsed := time.Since(start)
	close(done)
	<-sampled
	peakDisk.Store(max(peakDisk.Load(), diskUsage(l.cache, work)-base))

	report := fmt.Sprintf("lkpkg %s: %v after %v, peak RSS %d MiB, peak written %d KiB\n--- stderr:\n%s",
		strings.Join(args, " "), err, elapsed.Round(time.Millisecond), peakRSS.Load()>>20, peakDisk.Load()>>10, stderr.String())
	t.Log(report)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("want a refusal (non-zero exit): %v", err)
	}
	if ee.ExitCode() < 0 && c.interruptAfter == 0 {
		t.Fatalf("killed at a bound (twice the limit), not refused")
	}
	for _, w := range c.want {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr does not mention %q", w)
		}
	}
	if elapsed > c.maxTime {
		t.Errorf("took %v, bound %v", elapsed, c.maxTime)
	}
	if got := peakRSS.Load(); got > c.maxRSS {
		t.Errorf("peak RSS %d MiB, bound %d MiB", got>>20, c.maxRSS>>20)
	}
	if got := peakDisk.Load(); got > c.maxWritten {
		t.Errorf("wrote %d KiB, bound %d KiB", got>>10, c.maxWritten>>10)
	}
	if !signalled.IsZero() {
		if d := time.Since(signalled); d > time.Second {
			t.Errorf("exited %v after SIGTERM, want within 1s", d.Round(time.Millisecond))
		}
	}
	after := snapshotCache(t, l.cache)
	if !bytes.Equal(before.index, after.index) || strings.Join(before.blobs, "\n") != strings.Join(after.blobs, "\n") {
		t.Errorf("the cache changed:\nbefore: %s %v\nafter: %s %v", before.index, before.blobs, after.index, after.blobs)
	}
	if c.after != nil {
		c.after(t, input)
	}
}

// workDir in a case's arguments is replaced by the run's scratch
// directory (TMPDIR), whose disk use counts against maxWritten.
const workDir = "$WORK"

func expandWork(args []string, work string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, workDir, work)
	}
	return out
}

// diskUsage is the space the files below roots take on disk (blocks, so a
// sparse file counts for what it really uses).
func diskUsage(roots ...string) int64 {
	var n int64
	for _, r := range roots {
		filepath.WalkDir(r, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // files come and go while lkpkg runs
			}
			if fi, err := d.Info(); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					n += st.Blocks * 512
				}
			}
			return nil
		})
	}
	return n
}

// peakRSSOf is a running process's resident-memory high-water mark
// (VmHWM), 0 once it has gone. VmHWM starts afresh at exec, so it measures
// lkpkg alone and catches peaks between two samples; the rusage of the
// exited child would not do: its ru_maxrss carries the RSS of the test
// process it was forked from.
func peakRSSOf(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
