package qemu

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestQMPWatcher plays QEMU's side of the QMP conversation.
func TestQMPWatcher(t *testing.T) {
	tests := []struct {
		name         string
		events       []string
		wantReason   string
		wantPanicked bool
	}{
		{"power-off", []string{
			`{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}`,
		}, "guest-shutdown", false},
		{"first shutdown counts", []string{
			`{"event": "RESET", "data": {"guest": true, "reason": "guest-reset"}}`,
			`{"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-reset"}}`,
			`{"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-signal"}}`,
		}, "guest-reset", false},
		{"pvpanic", []string{
			`{"event": "GUEST_PANICKED", "data": {"action": "pause"}}`,
		}, "", true},
		{"no event", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "qmp.sock")
			w, err := listenQMP(sock)
			if err != nil {
				t.Fatal(err)
			}
			c, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(c)
			c.Write([]byte(`{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}` + "\n"))
			line, err := r.ReadString('\n')
			if err != nil || !strings.Contains(line, "qmp_capabilities") {
				t.Fatalf("watcher sent %q, %v", line, err)
			}
			c.Write([]byte(`{"return": {}}` + "\n"))
			for _, e := range tt.events {
				c.Write([]byte(e + "\n"))
			}
			c.Close() // QEMU exits
			reason, panicked := w.stop()
			if reason != tt.wantReason || panicked != tt.wantPanicked {
				t.Errorf("got %q %v, want %q %v", reason, panicked, tt.wantReason, tt.wantPanicked)
			}
		})
	}
}

// TestQMPWatcherNoConnection: QEMU died before connecting.
func TestQMPWatcherNoConnection(t *testing.T) {
	w, err := listenQMP(filepath.Join(t.TempDir(), "qmp.sock"))
	if err != nil {
		t.Fatal(err)
	}
	if reason, panicked := w.stop(); reason != "" || panicked {
		t.Errorf("got %q %v", reason, panicked)
	}
}
