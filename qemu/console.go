package qemu

import (
	"bytes"
	"regexp"
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
// "quiet" shows them. They count only as the kernel prints them: at the
// start of a line, after the printk timestamp if any, so that a guest
// program that prints them (grepping dmesg, say) is not taken for the
// kernel.
const (
	msgPowerDown = "reboot: Power down"
	msgRestart   = "reboot: Restarting system"
	msgHalt      = "reboot: System halted"
	msgPanic     = "Kernel panic - not syncing"
	msgPanicEnd  = "---[ end Kernel panic - not syncing" // after the backtrace
)

// printkPrefix is what the kernel may put before a message on the
// console: the timestamp (CONFIG_PRINTK_TIME, "[    1.234567] ") and the
// caller (CONFIG_PRINTK_CALLER, "[    T1] " or "[    C0] ").
var printkPrefix = regexp.MustCompile(`^(?:\[ *[0-9]+\.[0-9]+\](?:\[ *[TC][0-9]+\])? |\[ *[TC][0-9]+\] )?`)

// kernelMessage returns what would be the kernel's message in a console
// line: the line without its printk prefix. What follows a carriage
// return overwrites the line on a terminal: the kernel's message may come
// after a program's unfinished line.
func kernelMessage(line string) string {
	if i := strings.LastIndexByte(line, '\r'); i >= 0 {
		line = line[i+1:]
	}
	return line[len(printkPrefix.FindString(line)):]
}

// lineKinds are the kernel messages that end a boot, by prefix.
var lineKinds = []struct {
	prefix string
	kind   lineKind
}{
	{msgPanic, linePanic}, {msgPanicEnd, linePanic},
	{msgPowerDown, linePowerDown}, {msgRestart, lineRestart}, {msgHalt, lineHalt},
}

func classifyLine(line string) lineKind {
	msg := kernelMessage(line)
	for _, k := range lineKinds {
		if strings.HasPrefix(msg, k.prefix) {
			return k.kind
		}
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
	// onPanic, if set, is called (with the console locked) at the first
	// kernel panic line.
	onPanic func()

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
			msg := kernelMessage(l)
			c.st.panicMsg = msg[strings.Index(msg, msgPanic):]
			if c.onPanic != nil {
				c.onPanic()
			}
		}
	case linePowerDown:
		c.st.powerDown = true
	case lineRestart:
		c.st.restart = true
	case lineHalt:
		c.st.halt = true
	}
}
