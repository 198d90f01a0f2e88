package assemble

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A kernel from an earlier build is not left beside a kernel-less
// build's initrd.
func TestNoStaleKernelBesideNewInitrd(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "img-kernel")
	os.WriteFile(stale, []byte("old kernel"), 0o644)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.Close()
	if _, err := WriteOutputs(&buf, dir, "img", []string{FormatKernelInitrd}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale kernel kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "img-initrd.img")); err != nil {
		t.Fatal(err)
	}
}
