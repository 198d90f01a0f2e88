package buildkitd

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConnectDeadAddress(t *testing.T) {
	for _, addr := range []string{
		"unix://" + filepath.Join(t.TempDir(), "nobody.sock"),
		"tcp://127.0.0.1:1",
	} {
		t.Run(addr, func(t *testing.T) {
			start := time.Now()
			c, err := Connect(context.Background(), addr, TLS{})
			if err == nil {
				c.Close()
				t.Fatal("Connect to a dead address succeeded")
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("Connect took %s to fail; want quick", el)
			}
			msg := err.Error()
			if !strings.Contains(msg, addr) || !strings.Contains(msg, "is buildkitd running there?") {
				t.Errorf("unclear error: %v", err)
			}
			t.Logf("%s: %v", time.Since(start), err)
		})
	}
}

func TestConnectBadTLS(t *testing.T) {
	_, err := Connect(context.Background(), "tcp://127.0.0.1:1", TLS{CACert: filepath.Join(t.TempDir(), "missing-ca.pem")})
	if err == nil || !strings.Contains(err.Error(), "tcp://127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
}
