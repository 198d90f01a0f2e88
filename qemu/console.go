package qemu

import (
	"bytes"
	"strings"
	"sync"
)

// lineKind is what a console line says about the guest's end.
type lineKind int

const (
	lineOther     lineKind = iota
	linePowerDown          // kernel_power_off(): "reboot: Power down"
	lineRestart            // kernel_restart(): "reboot: Restarting system"
	lineHalt               // kernel_halt(): "reboot: System halted"
	linePanic              // panic(): "Kernel panic - not syncing: ..."
)

// The kernel's messages, as kernel/reboot.c (pr_fmt "reboot: ", since
// Linux 3.15) and kernel/panic.c print them, at KERN_EMERG so that even
// "quiet" shows them. A timestamp or other prefix may precede them.
const (
	msgPowerDown = "reboot: Power down"
	msgRestart   = "reboot: Restarting system"
	msgHalt      = "reboot: System halted"
	msgPanic     = "Kernel panic - not syncing"
)

func classifyLine(line string) lineKind {
	switch {
	case strings.Contains(line, msgPanic):
		return linePanic
	case strings.Contains(line, msgPowerDown):
		return linePowerDown
	case strings.Contains(line, msgRestart):
		return lineRestart
	case strings.Contains(line, msgHalt):
		return lineHalt
	}
	return lineOther
}

// consoleState is what the console showed.
type consoleState struct {
	powerDown, restart, halt bool
	panicMsg                 string // the first panic line, from "Kernel panic"
	expectSeen               bool
}

// maxLine bounds the partial line a console holds: output with no newline
// for that long is judged in pieces, so memory stays bounded.
const maxLine = 64 << 10

// console is an io.Writer for the serial console's output that judges it
// line by line. It is safe for concurrent use.
type console struct {
	expect string

	mu      sync.Mutex
	partial []byte
	st      consoleState
}

func newConsole(expect string) *console { return &console{expect: expect} }

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		c.line(string(c.partial[:i]))
		c.partial = c.partial[i+1:]
	}
	if len(c.partial) > maxLine {
		c.line(string(c.partial))
		// Keep enough to find an Expect marker cut by the split.
		keep := min(len(c.expect), len(c.partial))
		c.partial = append([]byte(nil), c.partial[len(c.partial)-keep:]...)
	}
	return len(p), nil
}

// Close judges the last, unterminated line.
func (c *console) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.partial) > 0 {
		c.line(string(c.partial))
		c.partial = nil
	}
	return nil
}

func (c *console) state() consoleState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

func (c *console) line(l string) {
	l = strings.TrimRight(l, "\r")
	if c.expect != "" && strings.Contains(l, c.expect) {
		c.st.expectSeen = true
	}
	switch classifyLine(l) {
	case linePanic:
		if c.st.panicMsg == "" {
			c.st.panicMsg = l[strings.Index(l, msgPanic):]
		}
	case linePowerDown:
		c.st.powerDown = true
	case lineRestart:
		c.st.restart = true
	case lineHalt:
		c.st.halt = true
	}
}
