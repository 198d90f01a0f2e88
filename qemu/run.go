package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Causes of the run context's end that Run itself brings about: the
// Config.Timeout expired, or QEMU was stopped after a guest panic.
var (
	errTimedOut  = errors.New("timeout")
	errPanicStop = errors.New("stopped after a guest kernel panic")
)

// panicGrace is how long a guest whose kernel panicked has, from the
// console's "Kernel panic - not syncing" line, before Run stops QEMU: time
// for the kernel to print the rest of the panic (the backtrace, "---[ end
// Kernel panic ...") and to reboot itself with panic=-1. Without panic=-1
// (an EFI boot's command line is the image's own), a panicked kernel
// would otherwise hang until the timeout.
const panicGrace = 2 * time.Second

// stopGrace is how long QEMU has to exit after SIGTERM (which lets it
// restore the terminal) before it is killed.
const stopGrace = 5 * time.Second

// Run boots cfg.Output in QEMU, with the serial console on cfg.Stdout, and
// waits for the guest to stop. It returns nil only when the guest powered
// off (having printed cfg.Expect, if set); see the package documentation
// for the other outcomes. The Result is filled in either case as far as the
// boot got.
func Run(ctx context.Context, cfg Config) (Result, error) {
	dir, err := os.MkdirTemp("", "lkpkg-qemu-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	if dir, err = filepath.Abs(dir); err != nil { // a relative $TMPDIR
		return Result{}, err
	}
	p, err := NewPlan(cfg, dir)
	if err != nil {
		return Result{}, err
	}
	// The work directory goes as soon as QEMU holds what it needs from it
	// (the open variable store, the connected QMP socket): a run killed
	// after that, by SIGKILL or a SIGPIPE, leaves nothing behind.
	return p.run(ctx, cfg, func() { os.RemoveAll(dir) })
}

// run boots the plan; ready, if not nil, is called once QEMU has started
// and no longer needs the work files.
func (p *Plan) run(ctx context.Context, cfg Config, ready func()) (Result, error) {
	res := Result{Kind: p.Image.Kind, Accel: p.Accel}
	if p.varsTemplate != "" {
		// The firmware writes its variables: give it a private copy.
		if err := copyFile(p.varsTemplate, p.vars); err != nil {
			return res, fmt.Errorf("copying the UEFI variable store: %w", err)
		}
	}
	qmp, err := listenQMP(p.qmp)
	if err != nil {
		return res, err
	}
	stderr := &tailBuffer{max: 4 << 10}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Once the console shows a kernel panic, QEMU has panicGrace to end
	// (panic=-1 reboots, which -no-reboot turns into QEMU's exit), then it
	// is stopped: a panic is the outcome whatever comes after it.
	panicStop := time.AfterFunc(time.Hour, func() { cancel(errPanicStop) })
	panicStop.Stop()
	defer panicStop.Stop()
	con := newConsole(cfg.Expect)
	con.onPanic = func() { panicStop.Reset(panicGrace) }
	if cfg.Timeout > 0 {
		var stop context.CancelFunc
		runCtx, stop = context.WithTimeoutCause(runCtx, cfg.Timeout, errTimedOut)
		defer stop()
	}
	cmd := exec.CommandContext(runCtx, p.Binary, p.Args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	// QEMU must not outlive lkpkg: `lkpkg run qemu X | grep -q Y` kills
	// lkpkg with SIGPIPE once grep is done. (Pdeathsig follows the forking
	// OS thread, which the Go runtime keeps unless a goroutine locked to
	// it exits: none here.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Stdin = cfg.Stdin
	// The watchers come first and never fail; a caller's writer that fails
	// is dropped rather than ending the copy they depend on.
	cmd.Stdout = io.MultiWriter(con, &lenient{w: cfg.Stdout})
	cmd.Stderr = io.MultiWriter(stderr, &lenient{w: cfg.Stderr})

	accel := p.Accel
	if p.AccelWhy != "" {
		accel += ", no KVM: " + p.AccelWhy
	}
	logf(cfg.Log, "booting %s %s on %s (%s)", p.Image.Kind, p.bootFile(), p.Arch, accel)

	start := time.Now()
	waitErr := cmd.Start()
	if waitErr == nil {
		if ready != nil {
			exited := make(chan struct{})
			defer close(exited)
			go func() {
				select {
				case <-qmp.ready:
					ready()
				case <-exited:
				}
			}()
		}
		waitErr = cmd.Wait()
	}
	res.Duration = time.Since(start)
	reason, qmpPanic := qmp.stop()
	con.Close()
	res.ExitCode = -1
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	return judge(res, outcome{
		binary:   p.Binary,
		cause:    context.Cause(runCtx),
		parent:   ctx.Err(),
		timeout:  cfg.Timeout,
		started:  cmd.Process != nil,
		waitErr:  waitErr,
		stderr:   stderr.String(),
		reason:   reason,
		qmpPanic: qmpPanic,
		console:  con.state(),
		expect:   cfg.Expect,
	})
}

// bootFile is the file a person recognises the boot by.
func (p *Plan) bootFile() string {
	if p.Image.Kernel != "" {
		return p.Image.Kernel
	}
	return p.Image.Disk
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// lenient writes to w (if any) until a write fails, then discards.
type lenient struct{ w io.Writer }

func (l *lenient) Write(p []byte) (int, error) {
	if l.w != nil {
		if _, err := l.w.Write(p); err != nil {
			l.w = nil
		}
	}
	return len(p), nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}

// tailBuffer keeps the last max bytes written to it: the end of QEMU's
// stderr is what explains a failure.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
