package qemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// qmpWatcher listens on the QMP socket QEMU connects to (see Plan.args)
// and records what QEMU says about the guest's end: the reason of its
// first SHUTDOWN event and whether a GUEST_PANICKED event came.
type qmpWatcher struct {
	l    net.Listener
	done chan struct{}
	// ready is closed when QEMU answers the capabilities negotiation.
	// QEMU runs QMP commands in its main loop, which starts once the
	// machine is built: its files (drives, firmware) are open by then.
	ready chan struct{}

	mu       sync.Mutex
	conn     net.Conn
	reason   string
	panicked bool
}

func listenQMP(path string) (*qmpWatcher, error) {
	l, err := net.Listen("unix", path)
	if err != nil {
		// A unix socket path has ~107 bytes at most: a long $TMPDIR can
		// exceed it.
		return nil, fmt.Errorf("QMP socket: %w", err)
	}
	w := &qmpWatcher{l: l, done: make(chan struct{}), ready: make(chan struct{})}
	go w.run()
	return w, nil
}

// qmpMessage is the part of a QMP message the watcher reads.
type qmpMessage struct {
	Event string `json:"event"`
	Data  struct {
		Reason string `json:"reason"`
	} `json:"data"`
	Return json.RawMessage `json:"return"` // a command's success
}

func (w *qmpWatcher) run() {
	defer close(w.done)
	conn, err := w.l.Accept()
	if err != nil {
		return // QEMU never connected: stop closed the listener
	}
	w.mu.Lock()
	w.conn = conn
	w.mu.Unlock()
	// QMP sends its greeting, then events only once capabilities are
	// negotiated. The replies need no reading beyond skipping them.
	if _, err := io.WriteString(conn, `{"execute":"qmp_capabilities"}`+"\n"); err != nil {
		return
	}
	dec := json.NewDecoder(conn)
	ready := false
	for {
		var m qmpMessage
		if err := dec.Decode(&m); err != nil {
			return // EOF when QEMU exits
		}
		if m.Return != nil && !ready {
			ready = true // the only command sent is qmp_capabilities
			close(w.ready)
		}
		w.mu.Lock()
		switch m.Event {
		case "SHUTDOWN":
			if w.reason == "" {
				w.reason = m.Data.Reason
			}
		case "GUEST_PANICKED":
			w.panicked = true
		}
		w.mu.Unlock()
	}
}

// qmpDrain bounds how long stop waits for the events QEMU sent just before
// it exited: they are in the socket buffer, read at once.
const qmpDrain = 2 * time.Second

// stop ends the watcher once QEMU has exited and returns what it saw.
func (w *qmpWatcher) stop() (reason string, panicked bool) {
	w.l.Close()
	select {
	case <-w.done:
	case <-time.After(qmpDrain):
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.Close() // unblocks a reader still waiting: the run is over
	}
	return w.reason, w.panicked
}
