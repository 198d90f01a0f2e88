package deb

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"
)

// bookwormMainAmd64 returns the uncompressed bookworm main/binary-amd64
// Packages (~50 MB, ~64k stanzas), fetched through Client into the test
// cache; the benchmark is skipped only when it cannot be had.
func bookwormMainAmd64(b *testing.B) []byte {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := &Client{CacheDir: realCacheDir(b)}
	kr := realKeyring(b)
	rel, err := c.Release(ctx, debianURL, "bookworm", kr, time.Now())
	if err != nil {
		b.Skipf("bookworm InRelease not fetchable: %v", err)
	}
	if _, err := c.Packages(ctx, debianURL, rel, "main", "amd64"); err != nil {
		b.Skipf("bookworm Packages not fetchable: %v", err)
	}
	data, err := os.ReadFile(c.blobPath(rel.Files["main/binary-amd64/Packages"].SHA256))
	if err != nil {
		b.Skipf("uncompressed index not cached: %v", err)
	}
	return data
}

// BenchmarkParseResolveBookwormMain parses bookworm main amd64 and
// resolves a builder-sized world with the essential set.
func BenchmarkParseResolveBookwormMain(b *testing.B) {
	data := bookwormMainAmd64(b)
	opts := ResolveOptions{Native: "amd64", Essential: true}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pkgs, err := ParsePackages(bytes.NewReader(data), "bookworm/main")
		if err != nil {
			b.Fatal(err)
		}
		got, err := NewIndex(pkgs).Resolve(builderWorld, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) < 100 {
			b.Fatalf("resolved only %d packages", len(got))
		}
	}
}

// BenchmarkParseBookwormMain isolates the parser.
func BenchmarkParseBookwormMain(b *testing.B) {
	data := bookwormMainAmd64(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParsePackages(bytes.NewReader(data), "bookworm/main"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolveBookwormMain isolates indexing and resolution.
func BenchmarkResolveBookwormMain(b *testing.B) {
	data := bookwormMainAmd64(b)
	pkgs, err := ParsePackages(bytes.NewReader(data), "bookworm/main")
	if err != nil {
		b.Fatal(err)
	}
	opts := ResolveOptions{Native: "amd64", Essential: true}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := NewIndex(pkgs).Resolve(builderWorld, opts); err != nil {
			b.Fatal(err)
		}
	}
}
