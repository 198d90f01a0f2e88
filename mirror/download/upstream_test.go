package download

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := "file://" + dir
	f, err := OpenFile(base, "f", 4)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(f, base+"/f", 6)
	if err != nil || string(got) != "456789" {
		t.Fatalf("read %q, %v", got, err)
	}
	if _, err := OpenFile(base, "missing", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing file: %v", err)
	}
	f, _ = OpenFile(base, "f", 0)
	if _, err := ReadAll(f, base+"/f", 9); err == nil {
		t.Fatal("ReadAll took more than max bytes")
	}
}
