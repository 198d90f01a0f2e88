package testenv

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fault is what FaultProxy does with one request.
type Fault int

const (
	// Pass forwards the request to the upstream.
	Pass Fault = iota
	// Fail500 answers 500 Internal Server Error.
	Fail500
	// Fail429 answers 429 Too Many Requests (a registry TOOMANYREQUESTS error).
	Fail429
	// Stall reads the request, then answers nothing for StallFor (or
	// until the client gives up), then 503: longer than any sane client
	// timeout in a test.
	Stall
)

// StallFor is how long a Stall fault holds a request.
var StallFor = 60 * time.Second

func (f Fault) String() string {
	switch f {
	case Pass:
		return "pass"
	case Fail500:
		return "500"
	case Fail429:
		return "429"
	case Stall:
		return "stall"
	}
	return "fault?"
}

// FaultProxy starts an HTTP reverse proxy on 127.0.0.1 in front of
// upstreamHost (host:port, plain HTTP) and returns its host:port. For each
// request, plan (called with the request and its 1-based sequence number
// n over all requests) picks a Fault. Faulty requests have their body read
// first, as a server failing after the upload would. The proxy keeps the
// client's Host header, so registry Location headers point back at it.
// It stops when the test ends, releasing stalled requests.
func FaultProxy(t testing.TB, upstreamHost string, plan func(r *http.Request, n int) Fault) string {
	t.Helper()
	up := &url.URL{Scheme: "http", Host: upstreamHost}
	rp := httputil.NewSingleHostReverseProxy(up)
	var (
		n       atomic.Int64
		closing = make(chan struct{})
		once    sync.Once
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := Pass
		if plan != nil {
			f = plan(r, int(n.Add(1)))
		}
		if f == Pass {
			rp.ServeHTTP(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		switch f {
		case Fail500:
			http.Error(w, "fault injected by testenv.FaultProxy", http.StatusInternalServerError)
		case Fail429:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"fault injected by testenv.FaultProxy"}]}`)
		case Stall:
			timer := time.NewTimer(StallFor)
			defer timer.Stop()
			select {
			case <-r.Context().Done():
				return
			case <-closing:
			case <-timer.C:
			}
			http.Error(w, "stalled by testenv.FaultProxy", http.StatusServiceUnavailable)
		default:
			http.Error(w, "unknown fault "+f.String(), http.StatusInternalServerError)
		}
	})
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		once.Do(func() { close(closing) })
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.Listener.Addr().String()
}
