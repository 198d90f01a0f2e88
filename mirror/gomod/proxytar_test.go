package gomod

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

func TestWriteProxyTar(t *testing.T) {
	upper := fakeModule{path: "github.com/BurntSushi/toml", version: "v1.0.0", files: map[string]string{"toml.go": "package toml\n"}}
	upper2 := upper
	upper2.version = "v1.10.0"
	w := newFakeWorld(t, upper, upper2)
	c := w.client()
	var mods []Module
	files := map[string]Files{}
	for _, key := range []string{upper2.key(), upper.key()} {
		m := w.module(key)
		if key == upper.key() {
			m.Sum = "" // go.mod only: not in @v/list, no zip
		}
		f, err := c.Download(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, m)
		files[key] = f
	}
	var buf bytes.Buffer
	if err := WriteProxyTar(&buf, mods, files, "/var/lib/goproxy/", testEpoch); err != nil {
		t.Fatal(err)
	}
	entries, _ := readTar(t, &buf, "")
	checkReproducibleHeaders(t, entries)
	const dir = "var/lib/goproxy/github.com/!burnt!sushi/toml/@v/"
	want := map[string]string{
		"var/lib/goproxy/":                              "",
		"var/lib/goproxy/github.com/":                   "",
		"var/lib/goproxy/github.com/!burnt!sushi/":      "",
		"var/lib/goproxy/github.com/!burnt!sushi/toml/": "",
		dir:          "",
		dir + "list": "v1.10.0\n",
		// .info states the epoch, not the proxy's (unverified) commit time.
		dir + "v1.0.0.info":  `{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}` + "\n",
		dir + "v1.0.0.mod":   "module github.com/BurntSushi/toml\n",
		dir + "v1.10.0.info": `{"Version":"v1.10.0","Time":"2024-01-02T03:04:05Z"}` + "\n",
		dir + "v1.10.0.mod":  "module github.com/BurntSushi/toml\n",
		dir + "v1.10.0.zip":  string(w.mods[upper2.key()].zip),
	}
	for name, content := range want {
		e, ok := entries[name]
		if !ok {
			t.Errorf("missing %s", name)
			continue
		}
		if strings.HasSuffix(name, "/") {
			if e.hdr.Mode != 0o755 {
				t.Errorf("%s: mode %o", name, e.hdr.Mode)
			}
			continue
		}
		if e.hdr.Mode != 0o644 || string(e.data) != content {
			t.Errorf("%s: mode %o content %q, want %q", name, e.hdr.Mode, e.data, content)
		}
	}
	for name := range entries {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected entry %s", name)
		}
	}
}

func TestWriteProxyTarRefuses(t *testing.T) {
	_, _, m, f := downloadedWorld(t)
	other := m
	other.GoModSum = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	for _, tc := range []struct {
		name  string
		mods  []Module
		files map[string]Files
		want  string
	}{
		{"no files", []Module{m}, nil, "no downloaded files"},
		{"no zip", []Module{m}, map[string]Files{m.String(): {Info: f.Info, Mod: f.Mod}}, "no downloaded zip"},
		{"go.mod changed", []Module{other}, map[string]Files{m.String(): f}, "go.mod checksum mismatch"},
		{"two hashes", []Module{m, other}, map[string]Files{m.String(): f}, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteProxyTar(io.Discard, tc.mods, tc.files, "p", testEpoch)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestGoSum(t *testing.T) {
	got := string(GoSum([]Module{
		{Path: "b.example", Version: "v1.0.0", GoModSum: "h1:bm="},
		{Path: "a.example", Version: "v1.0.0", Sum: "h1:az=", GoModSum: "h1:am="},
		{Path: "a.example", Version: "v1.0.0", Sum: "h1:az=", GoModSum: "h1:am="},
	}))
	want := "a.example v1.0.0 h1:az=\na.example v1.0.0/go.mod h1:am=\nb.example v1.0.0/go.mod h1:bm=\n"
	if got != want {
		t.Errorf("GoSum =\n%s\nwant\n%s", got, want)
	}
}
