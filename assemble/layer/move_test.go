package layer

import (
	"os"
	"path/filepath"
	"testing"
)

// MoveFiles merges per-directory trees and never follows a symlink out of
// its directory, neither in the source tree nor at the destination.
func TestMoveFiles(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	write := func(p, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "amd64/mirror/debian/pool/a.deb"), "a")
	write(filepath.Join(dir, "arm64/mirror/debian/pool/b.deb"), "b")
	write(filepath.Join(outside, "secret"), "s")
	// A hostile tree: a symlink to a directory outside, and a destination
	// directory that is a symlink outside.
	if err := os.Symlink(outside, filepath.Join(dir, "arm64/mirror/debian/escape")); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if err := MoveFiles(dir, "/"+arch+"/mirror/debian", "/mirror/debian"); err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
	}
	for p, want := range map[string]string{"mirror/debian/pool/a.deb": "a", "mirror/debian/pool/b.deb": "b"} {
		if got, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "secret")); err != nil {
		t.Errorf("the file outside moved: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "mirror/debian/escape")); err == nil {
		t.Errorf("a symlink was moved like a file")
	}

	if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dir, "x/f"), "f")
	if err := MoveFiles(dir, "x", "out/sub"); err == nil {
		t.Errorf("moved through a symlink to outside the directory")
	}
	if _, err := os.Stat(filepath.Join(outside, "sub")); err == nil {
		t.Errorf("created a directory outside")
	}
	if err := MoveFiles(dir, "x", "../up"); err == nil {
		t.Errorf("a destination climbing out was accepted")
	}
}
