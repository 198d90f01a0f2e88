package qemu

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	exit1 := &exec.ExitError{}
	tests := []struct {
		name    string
		o       outcome
		want    Result
		wantErr error  // errors.Is target; nil: success
		errHas  string // substring of the error
	}{
		{"qmp power-off", outcome{started: true, reason: "guest-shutdown"},
			Result{PoweredOff: true, StopReason: "guest-shutdown"}, nil, ""},
		{"console power-off without qmp", outcome{started: true, console: consoleState{powerDown: true}},
			Result{PoweredOff: true}, nil, ""},
		{"qmp wins over the console", outcome{started: true, reason: "guest-reset", console: consoleState{powerDown: true}},
			Result{Rebooted: true, StopReason: "guest-reset"}, ErrNotPoweredOff, "rebooted"},
		{"power-off with the marker", outcome{started: true, reason: "guest-shutdown", expect: "OK", console: consoleState{expectSeen: true}},
			Result{PoweredOff: true, ExpectSeen: true, StopReason: "guest-shutdown"}, nil, ""},
		{"power-off without the marker", outcome{started: true, reason: "guest-shutdown", expect: "OK"},
			Result{PoweredOff: true, StopReason: "guest-shutdown"}, ErrExpectMissing, `"OK"`},
		{"panic then reset", outcome{started: true, reason: "guest-reset", console: consoleState{panicMsg: "Kernel panic - not syncing: x"}},
			Result{Panicked: true, StopReason: "guest-reset", PanicMessage: "Kernel panic - not syncing: x"}, ErrPanicked, "not syncing: x"},
		{"panic by qmp only", outcome{started: true, reason: "guest-panic"},
			Result{Panicked: true, StopReason: "guest-panic"}, ErrPanicked, "QEMU reported"},
		{"panic with the marker", outcome{started: true, reason: "guest-reset", expect: "OK", console: consoleState{expectSeen: true, panicMsg: "Kernel panic - not syncing: y"}},
			Result{Panicked: true, ExpectSeen: true, StopReason: "guest-reset", PanicMessage: "Kernel panic - not syncing: y"}, ErrPanicked, ""},
		{"console reboot", outcome{started: true, console: consoleState{restart: true}},
			Result{Rebooted: true}, ErrNotPoweredOff, "rebooted"},
		{"halt", outcome{started: true, console: consoleState{halt: true}},
			Result{}, ErrNotPoweredOff, "halted"},
		{"signal", outcome{started: true, reason: "host-signal"},
			Result{StopReason: "host-signal"}, ErrNotPoweredOff, `"host-signal"`},
		{"no witness", outcome{started: true},
			Result{}, ErrNotPoweredOff, "no power-off"},
		{"timeout", outcome{started: true, cause: errTimedOut, timeout: 20 * time.Second, reason: "host-signal", console: consoleState{expectSeen: true}},
			Result{TimedOut: true, ExpectSeen: true, StopReason: "host-signal"}, ErrTimeout, "(20s)"},
		// A panic seen wins: a panicking kernel that does not reboot
		// (panic=0) runs on until the timeout.
		{"panic then timeout", outcome{started: true, cause: errTimedOut, timeout: time.Minute, console: consoleState{panicMsg: "Kernel panic - not syncing: z"}},
			Result{TimedOut: true, Panicked: true, PanicMessage: "Kernel panic - not syncing: z"}, ErrPanicked, "not syncing: z"},
		{"qmp panic then timeout", outcome{started: true, cause: errTimedOut, timeout: time.Minute, qmpPanic: true},
			Result{TimedOut: true, Panicked: true}, ErrPanicked, "QEMU reported"},
		{"panic then interrupted", outcome{started: true, cause: context.Canceled, parent: context.Canceled, console: consoleState{panicMsg: "Kernel panic - not syncing: w"}},
			Result{Panicked: true, PanicMessage: "Kernel panic - not syncing: w"}, ErrPanicked, "not syncing: w"},
		{"panic, then stopped by Run", outcome{started: true, cause: errPanicStop, waitErr: context.Canceled, reason: "host-signal", console: consoleState{panicMsg: "Kernel panic - not syncing: v"}},
			Result{Panicked: true, StopReason: "host-signal", PanicMessage: "Kernel panic - not syncing: v"}, ErrPanicked, "not syncing: v"},
		{"interrupted", outcome{started: true, cause: context.Canceled, parent: context.Canceled},
			Result{}, context.Canceled, "interrupted"},
		{"qemu failed", outcome{binary: "qemu-system-x86_64", started: true, waitErr: exit1, stderr: "qemu-system-x86_64: -drive x: Could not open\n"},
			Result{}, exit1, "Could not open"},
		{"qemu not started", outcome{binary: "/q", waitErr: exec.ErrNotFound},
			Result{}, exec.ErrNotFound, "starting /q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := judge(Result{}, tt.o)
			if got != tt.want {
				t.Errorf("result %+v\n  want %+v", got, tt.want)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("error %v", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("error %v, want %v", err, tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), tt.errHas):
				t.Errorf("error %q lacks %q", err, tt.errHas)
			}
		})
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("qemu: bad"), 1},
		{fmt.Errorf("%w: x", ErrPanicked), 2},
		{fmt.Errorf("%w: rebooted", ErrNotPoweredOff), 3},
		{fmt.Errorf("%w \"OK\"", ErrExpectMissing), 4},
		{fmt.Errorf("%w (3m0s)", ErrTimeout), 124},
		{context.Canceled, 1},
	}
	for _, tt := range tests {
		if got := ExitStatus(tt.err); got != tt.want {
			t.Errorf("ExitStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	for _, s := range []string{"0123", "456789", "ab"} {
		b.Write([]byte(s))
	}
	if got := b.String(); got != "456789ab" {
		t.Errorf("got %q", got)
	}
}

// TestRunStopsAfterPanic: a guest whose kernel panics without rebooting
// (an EFI boot, whose command line has no panic=-1) is stopped shortly
// after the panic, not left running until the timeout. QEMU is faked by
// a shell that prints a panic and then hangs.
func TestRunStopsAfterPanic(t *testing.T) {
	dir := t.TempDir()
	p := &Plan{
		Image:  Image{Kind: KindRawEFI, Disk: "x-efi.img"},
		Accel:  AccelTCG,
		Binary: "/bin/sh",
		Args: []string{"-c", `echo '[    0.912000] Kernel panic - not syncing: VFS: Unable to mount root fs'
echo '[    0.913000] CPU: 0 PID: 1 Comm: swapper/0'
exec sleep 60`},
		qmp: filepath.Join(dir, "qmp.sock"),
	}
	timeout := 20 * time.Second
	res, err := p.run(context.Background(), Config{Timeout: timeout}, nil)
	t.Logf("%s: %+v, %v", res.Duration, res, err)
	if !errors.Is(err, ErrPanicked) || !res.Panicked || res.TimedOut || ExitStatus(err) != ExitPanicked {
		t.Errorf("got %+v, %v; want a panic, stopped before the timeout", res, err)
	}
	if res.Duration < panicGrace || res.Duration > panicGrace+stopGrace {
		t.Errorf("stopped after %s, want %s after the panic", res.Duration, panicGrace)
	}
}
