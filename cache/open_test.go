package cache

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultDir(t *testing.T) {
	tests := []struct {
		name, xdg, home, want string
	}{
		{"XDG_CACHE_HOME", "/xdg", "/home/u", "/xdg/lkpkg/oci"},
		{"home", "", "/home/u", "/home/u/.cache/lkpkg/oci"},
		{"none", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := DefaultDir()
			if got != tt.want || (err != nil) != (tt.want == "") {
				t.Errorf("DefaultDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestOpenCreatesLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"oci-layout", "index.json", "blobs/sha256", "tmp"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("layout lacks %s: %v", f, err)
		}
	}
	if err := c.Verify(context.Background()); err != nil {
		t.Errorf("Verify on empty cache: %v", err)
	}
	// Reopening must not rewrite a populated index.json.
	writeIndex(t, c, "lkpkg/a:1", newTestIndex(t))
	before := readFile(t, filepath.Join(dir, "index.json"))
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if after := readFile(t, filepath.Join(dir, "index.json")); string(after) != string(before) {
		t.Error("Open rewrote an existing index.json")
	}
}

func TestOpenRejectsInvalidLayout(t *testing.T) {
	tests := []struct {
		name, file, content, wantErr string
	}{
		{"garbage index.json", "index.json", "this is not json", "index.json"},
		{"wrong schemaVersion", "index.json", `{"schemaVersion":1,"manifests":[]}`, "index.json"},
		{"bad digest", "index.json", `{"schemaVersion":2,"manifests":[{"digest":"sha256:nope"}]}`, "index.json"},
		{"wrong layout version", "oci-layout", `{"imageLayoutVersion":"9"}`, "oci-layout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Open() error = %v, want one mentioning %s", err, tt.wantErr)
			}
		})
	}
}
