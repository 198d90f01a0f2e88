package apk

import (
	"bytes"
	"testing"
)

// BenchmarkParseAndResolve parses main+community (23,030 packages) and
// resolves the world, the work a mirror does per index refresh.
func BenchmarkParseAndResolve(b *testing.B) {
	mainText, commText := indexText(b, "main"), indexText(b, "community")
	world := []string{"busybox", "dhcpcd", "ca-certificates", "musl-dev", "make", "binutils", "linux-headers"}
	b.ReportAllocs()
	for b.Loop() {
		m, err := ParseIndex(bytes.NewReader(mainText))
		if err != nil {
			b.Fatal(err)
		}
		c, err := ParseIndex(bytes.NewReader(commText))
		if err != nil {
			b.Fatal(err)
		}
		pkgs, err := Resolve([]Repository{{"main", m}, {"community", c}}, world)
		if err != nil || len(pkgs) != 15 {
			b.Fatalf("resolve: %d packages, %v", len(pkgs), err)
		}
	}
}
