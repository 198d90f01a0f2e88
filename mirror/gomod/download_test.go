package gomod

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

var pflagLike = fakeModule{path: "example.com/Lib", version: "v1.2.3", goMod: "module example.com/Lib\n\ngo 1.21\n", files: map[string]string{"lib.go": "package lib\n"}}

func TestLookupAndDownload(t *testing.T) {
	w := newFakeWorld(t, pflagLike)
	c := w.client()
	ctx := context.Background()
	m, err := c.Lookup(ctx, pflagLike.path, pflagLike.version)
	if err != nil {
		t.Fatal(err)
	}
	if want := w.module(pflagLike.key()); m != want {
		t.Fatalf("Lookup = %+v, want %+v", m, want)
	}
	f, err := c.Download(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	// The cache has the go command's layout, case-escaped.
	want := filepath.Join(c.CacheDir, "download", "example.com", "!lib", "@v", "v1.2.3")
	if f != (Files{Info: want + ".info", Mod: want + ".mod", Zip: want + ".zip"}) {
		t.Fatalf("Download = %+v", f)
	}

	// Reruns need no network: the proxy and database are gone.
	w.srv.Close()
	if again, err := c.Lookup(ctx, m.Path, m.Version); err != nil || again != m {
		t.Fatalf("offline Lookup = %+v, %v", again, err)
	}
	if again, err := c.Download(ctx, m); err != nil || again != f {
		t.Fatalf("offline Download = %+v, %v", again, err)
	}
	modOnly := m
	modOnly.Sum = ""
	if f, err := c.Download(ctx, modOnly); err != nil || f.Zip != "" {
		t.Fatalf("go.mod-only Download = %+v, %v", f, err)
	}
}

// Tampering with the cache is repaired (the file is fetched and verified
// again, and the progress says why); tampering by the proxy is refused.
func TestDownloadRefusesTampering(t *testing.T) {
	other := buildFake(t, fakeModule{path: pflagLike.path, version: pflagLike.version, goMod: pflagLike.goMod, files: map[string]string{"lib.go": "package lib // evil\n"}})
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, w *fakeWorld, c *Client, f Files)
		want   []string
	}{
		{
			name: "zip in cache",
			tamper: func(t *testing.T, w *fakeWorld, c *Client, f Files) {
				flipByte(t, f.Zip, -30) // inside the central directory's last name
			},
			want: []string{"example.com/Lib@v1.2.3", "zip", "expected h1:", "is corrupt", "fetching it again"},
		},
		{
			name: "file data in cached zip",
			tamper: func(t *testing.T, w *fakeWorld, c *Client, f Files) {
				flipByte(t, f.Zip, 62) // inside the first file's data (30-byte header, 29-byte name)
			},
			want: []string{"example.com/Lib@v1.2.3", "zip", "expected h1:", "is corrupt", "fetching it again"},
		},
		{
			name: "go.mod in cache",
			tamper: func(t *testing.T, w *fakeWorld, c *Client, f Files) {
				writeFile(t, f.Mod, pflagLike.goMod+"require evil.example v1.0.0\n")
			},
			want: []string{"example.com/Lib@v1.2.3", "go.mod checksum mismatch", "expected h1:", "got h1:", "is corrupt"},
		},
		{
			name: "proxy serves another zip",
			tamper: func(t *testing.T, w *fakeWorld, c *Client, f Files) {
				os.RemoveAll(filepath.Join(c.CacheDir, "download"))
				w.served[pflagLike.key()] = &built{info: other.info, mod: other.mod, zip: other.zip}
			},
			want: []string{"example.com/Lib@v1.2.3", "zip checksum mismatch", "expected h1:", "got h1:", "downloaded from " + "http://"},
		},
		{
			name: "proxy serves another go.mod",
			tamper: func(t *testing.T, w *fakeWorld, c *Client, f Files) {
				os.RemoveAll(filepath.Join(c.CacheDir, "download"))
				w.served[pflagLike.key()] = &built{info: other.info, mod: []byte("module example.com/Lib\n"), zip: other.zip}
			},
			want: []string{"go.mod checksum mismatch"},
		},
		{
			name: "proxy info names another version",
			tamper: func(t *testing.T, w *fakeWorld, c *Client, f Files) {
				os.RemoveAll(filepath.Join(c.CacheDir, "download"))
				b := *w.mods[pflagLike.key()]
				b.info = []byte(`{"Version":"v9.9.9"}`)
				w.served[pflagLike.key()] = &b
			},
			want: []string{`names version "v9.9.9"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, c, m, f := downloadedWorld(t)
			var progress strings.Builder
			c.Progress = &progress
			tc.tamper(t, w, c, f)
			_, err := c.Download(context.Background(), m)
			if strings.Contains(tc.name, "cache") {
				if err != nil {
					t.Fatalf("a corrupt cached file was not fetched again: %v", err)
				}
				for _, s := range tc.want {
					if !strings.Contains(progress.String(), s) {
						t.Errorf("progress %q does not mention %q", progress.String(), s)
					}
				}
				if _, err := c.Download(context.Background(), m); err != nil {
					t.Fatalf("the repaired cache does not verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Download accepted tampered content")
			}
			t.Log(err)
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			// Nothing unverified is left in the cache for the next run.
			if strings.HasPrefix(tc.name, "proxy") {
				if _, err := os.Stat(f.Zip); err == nil && !strings.Contains(tc.name, "info") && !strings.Contains(tc.name, "go.mod") {
					t.Errorf("the refused zip is in the cache")
				}
				leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(f.Zip), "*.part"))
				if len(leftovers) > 0 {
					t.Errorf("temporary files left: %v", leftovers)
				}
			}
		})
	}
}

// flipByte changes the byte at off (from the end if negative).
func flipByte(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLookupRefusesForeignSignature(t *testing.T) {
	w := newFakeWorld(t, pflagLike)
	c := w.client()
	// The same database name with another key: a man in the middle.
	_, otherKey, err := note.GenerateKey(rand.Reader, "sum.test")
	if err != nil {
		t.Fatal(err)
	}
	c.SumDB = otherKey
	_, err = c.Lookup(context.Background(), pflagLike.path, pflagLike.version)
	if err == nil || !strings.Contains(err.Error(), "checksum database sum.test") {
		t.Fatalf("Lookup with a foreign signature: %v", err)
	}
	t.Log(err)
}

func TestLookupUnknownModule(t *testing.T) {
	w := newFakeWorld(t, pflagLike)
	_, err := w.client().Lookup(context.Background(), "example.com/nothere", "v1.0.0")
	if err == nil || !strings.Contains(err.Error(), "example.com/nothere@v1.0.0") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("Lookup of an unknown module: %v", err)
	}
	t.Log(err)
}

func TestParseSumDB(t *testing.T) {
	_, key, err := note.GenerateKey(rand.Reader, "sum.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in      string
		name    string
		url     string
		wantErr bool
	}{
		{in: "", name: "sum.golang.org"},
		{in: "sum.golang.org", name: "sum.golang.org"},
		{in: "sum.golang.org https://sum.example.net/", name: "sum.golang.org", url: "https://sum.example.net"},
		{in: key, name: "sum.example.com"},
		{in: key + " http://127.0.0.1:1/db", name: "sum.example.com", url: "http://127.0.0.1:1/db"},
		{in: "sum.example.com", wantErr: true}, // unknown name without a key
		{in: key + " a b", wantErr: true},
	} {
		cfg, err := parseSumDB(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseSumDB(%q): %v", tc.in, err)
			continue
		}
		if err == nil && (cfg.name != tc.name || cfg.url != tc.url) {
			t.Errorf("parseSumDB(%q) = %+v, want name %q url %q", tc.in, cfg, tc.name, tc.url)
		}
	}
}

// TestRealProxyServingAnotherZip: the hashes come from the real checksum
// database; a proxy on 127.0.0.1 serves a different zip for that version.
func TestRealProxyServingAnotherZip(t *testing.T) {
	real := realClient(t)
	ctx := context.Background()
	m, err := real.Lookup(ctx, "github.com/inconshreveable/mousetrap", "v1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	// The real go.mod, so that the zip is what differs.
	modOnly := m
	modOnly.Sum = ""
	rf, err := real.Download(ctx, modOnly)
	if err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(rf.Mod)
	if err != nil {
		t.Fatal(err)
	}
	w := newFakeWorld(t, fakeModule{path: m.Path, version: m.Version, goMod: string(goMod),
		files: map[string]string{"trap_others.go": "package mousetrap\n\nfunc StartedByExplorer() bool { return true }\n"}})
	c := w.client()
	_, err = c.Download(ctx, m)
	if err == nil {
		t.Fatal("Download accepted a zip the checksum database does not know")
	}
	if !strings.Contains(err.Error(), "zip checksum mismatch") || !strings.Contains(err.Error(), m.Sum) || !strings.Contains(err.Error(), m.Path) {
		t.Fatalf("unclear error: %v", err)
	}
	t.Log(err)
}
