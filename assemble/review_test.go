package assemble

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/cache"
)

// A tag-scoped trust entry still covers the image when the YAML writes
// it as tag@digest.
func TestTrustImageTagCoversTagAtDigest(t *testing.T) {
	tr := &Trust{Image: []string{"linuxkit/kernel:6.6.71"}}
	dg := "@sha256:" + strings.Repeat("a", 64)
	for ref, want := range map[string]bool{
		"linuxkit/kernel:6.6.71":                true,
		"linuxkit/kernel:6.6.71" + dg:           true,
		"docker.io/linuxkit/kernel:6.6.71" + dg: true,
		"linuxkit/kernel:6.6.72" + dg:           false,
		"linuxkit/kernel:6.6.72":                false,
	} {
		if got := tr.Requires(ref); got != want {
			t.Errorf("Requires(%q) = %v, want %v", ref, got, want)
		}
	}
}

// A digest written in the YAML wins over the lock file; a lock that
// disagrees is refused, and a failed build writes no lock.
func TestLockCannotOverrideYAMLDigest(t *testing.T) {
	ctx := context.Background()
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	imgs := asmMakeImages(t, "v1")
	asmStore(t, c, asmPrefix, imgs)
	svc := asmDigest(t, imgs.svc)
	yaml := strings.ReplaceAll(asmYAML(asmPrefix, ""), asmPrefix+"svc:v1", asmPrefix+"svc@"+svc.String())
	yamlPath, out := asmSetup(t, yaml)
	if _, err := Build(ctx, yamlPath, Options{Cache: c, OutputDir: out, Formats: []string{FormatTar}}); err != nil {
		t.Fatal(err)
	}
	lockPath := LockPath(yamlPath)
	lock, _ := os.ReadFile(lockPath)
	other := "sha256:" + strings.Repeat("b", 64)
	var lines []string
	for _, l := range strings.Split(string(lock), "\n") {
		if f := strings.Fields(l); len(f) == 2 && strings.Contains(f[0], "svc@") {
			l = f[0] + " " + other // the lock now disagrees with the YAML
		}
		lines = append(lines, l)
	}
	os.WriteFile(lockPath, []byte(strings.Join(lines, "\n")), 0o644)
	_, err = Build(ctx, yamlPath, Options{Cache: c, OutputDir: filepath.Join(t.TempDir(), "o"), Formats: []string{FormatTar}})
	if err == nil || !strings.Contains(err.Error(), "but the YAML pins") {
		t.Fatalf("a lock overriding the YAML's digest: %v", err)
	}

	// A build that fails writes no lock.
	yamlPath2, out2 := asmSetup(t, strings.ReplaceAll(asmYAML(asmPrefix, ""), asmPrefix+"svc:v1", asmPrefix+"missing:v1"))
	if _, err := Build(ctx, yamlPath2, Options{Cache: c, OutputDir: out2, Formats: []string{FormatTar}}); err == nil {
		t.Fatal("a build with a missing image worked")
	}
	if _, err := os.Stat(LockPath(yamlPath2)); err == nil {
		t.Fatal("a failed build wrote a lock file")
	}
}

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
