package assemble

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestAssembleLock(t *testing.T) {
	ctx := context.Background()
	c, v1imgs := asmCache(t, asmPrefix)
	// keep v1's service image reachable under another name
	if _, err := c.WriteIndex(ctx, asmPrefix+"keep:v1", v1imgs.svc); err != nil {
		t.Fatal(err)
	}
	yamlPath, out := asmSetup(t, asmYAML(asmPrefix, ""))
	build := func(update bool) (string, error) {
		t.Helper()
		if _, err := Build(ctx, yamlPath, Options{Cache: c, OutputDir: out, Formats: []string{FormatTar}, UpdateLock: update}); err != nil {
			return "", err
		}
		m, _ := asmReadTar(t, filepath.Join(out, "image.tar"))
		return m["containers/services/getty/rootfs/bin/svc"].body, nil
	}
	if got, err := build(false); err != nil || got != "svc v1" {
		t.Fatalf("first build: %q %v", got, err)
	}
	lockPath := LockPath(yamlPath)
	lock1, _ := os.ReadFile(lockPath)
	if d, _ := (&Lock{}).parseForTest(t, lock1).Get(asmPrefix + "svc:v1"); d != asmDigest(t, v1imgs.svc) {
		t.Fatalf("lock pins svc to %s, want %s\n%s", d, asmDigest(t, v1imgs.svc), lock1)
	}

	// The tag moves in the cache: the lock still wins.
	v2 := asmMakeImages(t, "v2")
	if _, err := c.WriteIndex(ctx, asmPrefix+"svc:v1", v2.svc); err != nil {
		t.Fatal(err)
	}
	if got, err := build(false); err != nil || got != "svc v1" {
		t.Fatalf("locked build: %q %v", got, err)
	}
	if b, _ := os.ReadFile(lockPath); !bytes.Equal(b, lock1) {
		t.Fatal("the lock file changed without --update-lock")
	}
	// --update-lock follows the tag.
	if got, err := build(true); err != nil || got != "svc v2" {
		t.Fatalf("--update-lock build: %q %v", got, err)
	}
	// Pinned to content the cache no longer has: an error naming the digest.
	if err := os.WriteFile(lockPath, lock1, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(ctx, asmPrefix+"keep:v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := build(false); err == nil || !strings.Contains(err.Error(), asmDigest(t, v1imgs.svc).String()) {
		t.Fatalf("err = %v, want one naming the locked digest", err)
	}
	// A ref missing from the lock is an error naming it.
	yml := asmYAML(asmPrefix, "") + "  - path: x\n    contents: y\n"
	yml = strings.Replace(yml, "init:\n  - "+asmPrefix+"init:v1\n", "init:\n  - "+asmPrefix+"init:v1\n  - "+asmPrefix+"keep:v1\n", 1)
	if err := os.WriteFile(yamlPath, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := build(false); err == nil || !strings.Contains(err.Error(), asmPrefix+"keep:v1") || !strings.Contains(err.Error(), "--update-lock") {
		t.Fatalf("err = %v", err)
	}
}

func TestLockFileFormat(t *testing.T) {
	h1 := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	h2 := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}
	l := NewLock()
	l.Set("linuxkit/init:v1", h1)
	l.Set("alpine:3.20", h2)
	b := l.Marshal()
	p, err := ParseLock("x.lock", b)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := p.Get("docker.io/linuxkit/init:v1"); !ok || d != h1 {
		t.Errorf("normalised lookup: %v %v", d, ok)
	}
	if !bytes.Equal(p.Marshal(), b) || strings.Index(string(b), "alpine") > strings.Index(string(b), "linuxkit") {
		t.Errorf("not sorted/stable:\n%s", b)
	}
	for _, tc := range []struct{ in, want string }{
		{"a b c\n", "x.lock:1:"},
		{"# c\nalpine:3 sha256:zz\n", "x.lock:2:"},
		{"alpine:3 " + h1.String() + "\nalpine:3 " + h2.String() + "\n", "pinned twice"},
	} {
		if _, err := ParseLock("x.lock", []byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.in, err, tc.want)
		}
	}
	if LockPath("/a/b.yml") != "/a/b.lock" || LockPath("b.yaml") != "b.lock" {
		t.Error("LockPath")
	}
}

// A digest written in the YAML wins over the lock file; a lock that
// disagrees is refused, and a failed build writes no lock.
func TestLockCannotOverrideYAMLDigest(t *testing.T) {
	ctx := context.Background()
	c, imgs := asmCache(t, asmPrefix)
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
	_, err := Build(ctx, yamlPath, Options{Cache: c, OutputDir: filepath.Join(t.TempDir(), "o"), Formats: []string{FormatTar}})
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
