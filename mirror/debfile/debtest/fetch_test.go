package debtest

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPins(t *testing.T) {
	pins := Pins()
	if len(pins) < 10 {
		t.Fatalf("%d pins", len(pins))
	}
	for _, p := range pins {
		if len(p.SHA256) != 64 || p.Size <= 0 || !strings.HasSuffix(p.Path, ".deb") {
			t.Errorf("bad pin %+v", p)
		}
	}
}

func TestURLs(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"debian/pool/main/d/dash/dash_1_amd64.deb", []string{Mirror + "debian/pool/main/d/dash/dash_1_amd64.deb"}},
		{"debian-security/pool/updates/main/o/openssl/libssl3_3_amd64.deb", []string{
			Mirror + "debian-security/pool/updates/main/o/openssl/libssl3_3_amd64.deb",
			Mirror + "debian/pool/main/o/openssl/libssl3_3_amd64.deb",
		}},
	}
	for _, tt := range tests {
		if got := urls(Pin{Path: tt.path}); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("urls(%s) = %q", tt.path, got)
		}
	}
}

// TestEnsureGone checks the message a test fails with when a pinned file
// is neither cached nor upstream any more.
func TestEnsureGone(t *testing.T) {
	if testing.Short() {
		t.Skip("asks the Debian mirror; skipped with -short")
	}
	p := Pin{Name: "gone", Version: "1", Size: 1, SHA256: strings.Repeat("0", 64), Path: "debian/pool/main/g/gone/gone_1_amd64.deb"}
	err := ensure(filepath.Join(t.TempDir(), "gone_1_amd64.deb"), p)
	if err == nil || !strings.Contains(err.Error(), "gone 1 is neither in the cache") ||
		!strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "update-pins.sh") {
		t.Fatalf("err = %v", err)
	}
}
