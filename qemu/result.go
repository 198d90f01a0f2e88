package qemu

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of a boot that ran but did not end in a clean power-off. Run wraps
// them with the details; test them with errors.Is.
var (
	ErrPanicked      = errors.New("guest kernel panicked")
	ErrNotPoweredOff = errors.New("guest stopped without powering off")
	ErrExpectMissing = errors.New("guest powered off without printing the expected marker")
	ErrTimeout       = errors.New("guest still running at the timeout")
)

// Exit statuses of `lkpkg run qemu`, by ExitStatus.
const (
	ExitPoweredOff    = 0
	ExitError         = 1
	ExitPanicked      = 2
	ExitNotPoweredOff = 3
	ExitExpectMissing = 4
	ExitTimeout       = 124 // as timeout(1)
)

// ExitStatus maps Run's error to the exit status of `lkpkg run qemu`.
func ExitStatus(err error) int {
	if err == nil {
		return ExitPoweredOff
	}
	for _, e := range []struct {
		err    error
		status int
	}{
		{ErrTimeout, ExitTimeout}, {ErrPanicked, ExitPanicked},
		{ErrNotPoweredOff, ExitNotPoweredOff}, {ErrExpectMissing, ExitExpectMissing},
	} {
		if errors.Is(err, e.err) {
			return e.status
		}
	}
	return ExitError
}

// Result is how a boot went.
type Result struct {
	Kind  Kind
	Accel string // "kvm" or "tcg"
	// PoweredOff: the guest powered off. Panicked: its kernel panicked.
	// Rebooted: it rebooted (which ends the run: -no-reboot). TimedOut:
	// Run killed QEMU at Config.Timeout.
	PoweredOff, Panicked, Rebooted, TimedOut bool
	// ExpectSeen: Config.Expect appeared on the console.
	ExpectSeen bool
	// StopReason is the reason of QEMU's QMP SHUTDOWN event
	// ("guest-shutdown", "guest-reset", "host-signal"...), "" if none came.
	StopReason string
	// PanicMessage is the console's "Kernel panic - not syncing: ..." line.
	PanicMessage string
	// ExitCode is QEMU's own exit status (-1: it died of a signal).
	ExitCode int
	Duration time.Duration
}

// outcome is everything known when QEMU has exited.
type outcome struct {
	binary   string
	cause    error // of the run context: errTimedOut, the parent's, or nil
	parent   error // the parent context's error
	timeout  time.Duration
	started  bool
	waitErr  error
	stderr   string // the tail of QEMU's stderr
	reason   string // QMP SHUTDOWN reason
	qmpPanic bool
	console  consoleState
	expect   string
}

// judge turns an outcome into Run's answer. A panic seen anywhere wins,
// over a timeout or an interruption too: a panicking kernel reboots
// (panic=-1), hangs until the timeout or until Run stops QEMU (see
// panicGrace), and all of these are its consequence. Then QEMU's QMP
// account decides, and the console only when QMP said nothing.
func judge(res Result, o outcome) (Result, error) {
	res.StopReason = o.reason
	res.ExpectSeen = o.console.expectSeen
	res.PanicMessage = o.console.panicMsg
	res.Panicked = o.console.panicMsg != "" || o.qmpPanic || o.reason == "guest-panic"
	res.TimedOut = errors.Is(o.cause, errTimedOut)
	switch {
	case res.Panicked:
		msg := res.PanicMessage
		if msg == "" {
			msg = "QEMU reported a guest panic"
		}
		if res.TimedOut {
			msg += fmt.Sprintf(" (QEMU killed at the %s timeout)", o.timeout)
		}
		return res, fmt.Errorf("%w: %s", ErrPanicked, msg)
	case res.TimedOut:
		return res, fmt.Errorf("%w (%s)", ErrTimeout, o.timeout)
	case o.parent != nil:
		return res, fmt.Errorf("interrupted, QEMU stopped: %w", o.parent)
	case !o.started:
		return res, fmt.Errorf("starting %s: %w", o.binary, o.waitErr)
	case o.waitErr != nil:
		// QEMU itself failed: bad arguments, a missing file, a crash.
		msg := strings.TrimSpace(o.stderr)
		if msg == "" {
			msg = "(nothing on stderr)"
		}
		return res, fmt.Errorf("%s: %w: %s", o.binary, o.waitErr, msg)
	}

	powerDown, restart := o.reason == "guest-shutdown", o.reason == "guest-reset"
	if o.reason == "" {
		powerDown, restart = o.console.powerDown, o.console.restart
	}
	switch {
	case powerDown:
		res.PoweredOff = true
		if o.expect != "" && !res.ExpectSeen {
			return res, fmt.Errorf("%w %q", ErrExpectMissing, o.expect)
		}
		return res, nil
	case restart:
		res.Rebooted = true
		return res, fmt.Errorf("%w: it rebooted", ErrNotPoweredOff)
	case o.reason != "":
		return res, fmt.Errorf("%w: QEMU stopped for %q", ErrNotPoweredOff, o.reason)
	case o.console.halt:
		return res, fmt.Errorf("%w: it halted", ErrNotPoweredOff)
	}
	return res, fmt.Errorf("%w: QEMU exited without a shutdown event, and the console showed no power-off", ErrNotPoweredOff)
}
