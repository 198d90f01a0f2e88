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
		{"LKPKG-BOOT-OK", lineOther},
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
