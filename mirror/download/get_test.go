package download

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// Get retries a 503 and a 429, then hands the first other response back
// with the Range it asked for.
func TestGetRetriesTransientStatuses(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.Header().Set("X-Range", r.Header.Get("Range"))
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	resp, err := Get(context.Background(), nil, srv.URL+"/f", 7)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Range") != "bytes=7-" || calls.Load() != 3 {
		t.Fatalf("status %d, range %q after %d calls", resp.StatusCode, resp.Header.Get("X-Range"), calls.Load())
	}
}
