package qemu

import (
	"strings"
	"testing"
)

func TestClassifyLine(t *testing.T) {
	tests := []struct {
		line string
		want lineKind
	}{
		{"[    2.343040] reboot: Power down", linePowerDown},
		{"reboot: Power down", linePowerDown},
		{"[    1.000000] reboot: Restarting system", lineRestart},
		{"[    1.000000] reboot: System halted", lineHalt},
		{"[    0.912000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)", linePanic},
		{"[    0.912000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100", linePanic},
		{"[    0.913000] ---[ end Kernel panic - not syncing: Attempted to kill init! ]---", linePanic},
		{"[    2.342003] ACPI: PM: Preparing to enter system sleep state S5", lineOther},
		{"[    0.913000][    T1] Kernel panic - not syncing: x", linePanic}, // CONFIG_PRINTK_CALLER
		{"[    1.000000][    C0] reboot: Power down", linePowerDown},
		{"progress 50%\r[    1.000000] reboot: Power down", linePowerDown}, // after a carriage return
		{"LKPKG-BOOT-OK", lineOther},
		// The messages inside the guest's own output, not the kernel's.
		{"guest test: checking for 'Kernel panic - not syncing' in dmesg: none", lineOther},
		{"[    1.000000] test: Kernel panic - not syncing: quoted", lineOther},
		{"echo reboot: Power down", lineOther},
		{"want 'reboot: Restarting system' next", lineOther},
		{"init: reboot: System halted? no", lineOther},
		{" Kernel panic - not syncing: indented", lineOther},
		{"[not a timestamp] reboot: Power down", lineOther},
		{"reboot: Power", lineOther},
		{"", lineOther},
	}
	for _, tt := range tests {
		if got := classifyLine(tt.line); got != tt.want {
			t.Errorf("classifyLine(%q) = %d, want %d", tt.line, got, tt.want)
		}
	}
}

func TestConsole(t *testing.T) {
	tests := []struct {
		name   string
		expect string
		chunks []string
		want   consoleState
	}{
		{"power-off", "LKPKG-BOOT-OK",
			[]string{"[    2.2] Run /init as init process\r\nLKPKG-BOOT-OK\r\n", "[    2.3] reboot: Power down\r\n"},
			consoleState{powerDown: true, expectSeen: true}},
		{"lines split across writes", "LKPKG-BOOT-OK",
			[]string{"LKPKG-BO", "OT-OK\r", "\n[ 2.3] reboot: Pow", "er down"},
			consoleState{powerDown: true, expectSeen: true}},
		{"marker missing", "LKPKG-BOOT-OK",
			[]string{"LKPKG-BOOT\n", "-OK\n", "reboot: Power down\n"},
			consoleState{powerDown: true}},
		{"panic then restart", "",
			[]string{"[ 0.9] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\r\n",
				"[ 0.9] ---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100 ]---\r\n"},
			consoleState{panicMsg: "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100"}},
		{"reboot", "", []string{"reboot: Restarting system\n"}, consoleState{restart: true}},
		{"halt", "", []string{"reboot: System halted\n"}, consoleState{halt: true}},
		{"the guest prints the kernel's messages", "",
			[]string{"guest test: checking for 'Kernel panic - not syncing' in dmesg: none\n",
				"sh: echo reboot: Restarting system\n", "[    2.3] reboot: Power down\n"},
			consoleState{powerDown: true}},
		{"marker in a line longer than maxLine", "MARK",
			[]string{strings.Repeat("x", maxLine-1), "MA", "RK" + strings.Repeat("y", 10)},
			consoleState{expectSeen: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConsole(tt.expect)
			for _, ch := range tt.chunks {
				if n, err := c.Write([]byte(ch)); n != len(ch) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			c.Close()
			if got := c.state(); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConsoleBoundsMemory(t *testing.T) {
	c := newConsole("MARK")
	chunk := []byte(strings.Repeat("z", 1<<10))
	for range 1 << 10 { // 1 MiB without a newline
		c.Write(chunk)
	}
	if len(c.partial) > maxLine+len(chunk) {
		t.Errorf("holds %d bytes of one line", len(c.partial))
	}
}

// TestGuestPrintsPanicText: a guest program that prints the panic message
// and then powers off cleanly exits 0, not 2 (review finding).
func TestGuestPrintsPanicText(t *testing.T) {
	c := newConsole("")
	c.Write([]byte("guest test: checking for 'Kernel panic - not syncing' in dmesg: none\n"))
	c.Close()
	res, err := judge(Result{}, outcome{started: true, reason: "guest-shutdown", console: c.state()})
	if err != nil || res.Panicked || !res.PoweredOff || ExitStatus(err) != ExitPoweredOff {
		t.Errorf("got %+v, %v (exit %d); want a clean power-off", res, err, ExitStatus(err))
	}
}
