package registry

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGuard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tests := []struct {
		name     string
		url      string
		insecure bool
		ok       bool
	}{
		{"loopback http with the flag", srv.URL, true, true},
		{"loopback http without the flag", srv.URL, false, false},
		{"private address http with the flag", "http://10.1.2.3:5000/v2/", true, false},
		{"private address http without the flag", "http://192.168.1.1:5000/v2/", false, false},
		{".local http", "http://registry.local/v2/", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
			resp, err := Options{Insecure: tc.insecure}.RoundTripper().RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			if tc.ok && err != nil {
				t.Fatal(err)
			}
			if !tc.ok && !errors.Is(err, ErrPlainHTTP) {
				t.Fatalf("want ErrPlainHTTP, got %v", err)
			}
		})
	}
	for host, want := range map[string]bool{"LOCALHOST:5000": true, "127.0.0.5": true, "[::1]:80": true, "10.0.0.1": false, "example.com": false} {
		if IsLoopback(host) != want {
			t.Errorf("IsLoopback(%q) != %v", host, want)
		}
	}
}
