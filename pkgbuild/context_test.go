package pkgbuild

import (
	"context"
	gofs "io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

func TestWalkLess(t *testing.T) {
	paths := []string{"a-c", "a/b", "a", "b", "a/b/c", "a.d", "Z"}
	sort.Slice(paths, func(i, j int) bool { return walkLess(paths[i], paths[j]) })
	want := []string{"Z", "a", "a/b", "a/b/c", "a-c", "a.d", "b"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("got %v, want %v", paths, want)
	}
}

func TestLoadContext(t *testing.T) {
	root := t.TempDir()
	pkg := filepath.Join(root, "pkg")
	write(t, filepath.Join(pkg, "Dockerfile"), "FROM scratch\n", 0o644)
	write(t, filepath.Join(pkg, ".dockerignore"), "*.log\nsecret/\n!keep.log\n", 0o644)
	write(t, filepath.Join(pkg, "a.log"), "x", 0o644)
	write(t, filepath.Join(pkg, "keep.log"), "x", 0o644)
	write(t, filepath.Join(pkg, "secret", "key"), "x", 0o600)
	write(t, filepath.Join(pkg, "src", "main.c"), "x", 0o755)
	if err := os.Symlink("src/main.c", filepath.Join(pkg, "link")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "vendor", "lib.c"), "y", 0o644)
	write(t, filepath.Join(root, "one.txt"), "z", 0o644)

	bc, err := loadContext(pkg, "Dockerfile", []string{"../vendor:third_party/vendor", "../one.txt:files/one.txt"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range bc.Entries {
		got = append(got, e.Path)
	}
	want := []string{".dockerignore", "Dockerfile", "files", "files/one.txt", "keep.log", "link", "src", "src/main.c", "third_party", "third_party/vendor", "third_party/vendor/lib.c"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("context\n got %v\nwant %v", got, want)
	}

	// The FS BuildKit reads gives the same entries in the same order,
	// owned by root, with every mtime at the epoch.
	var walked []string
	err = bc.FS(42).Walk(context.Background(), "", func(p string, d gofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		if fi.ModTime().Unix() != 42 {
			t.Errorf("%s: mtime %v", p, fi.ModTime())
		}
		walked = append(walked, p)
		return nil
	})
	if err != nil || !reflect.DeepEqual(walked, want) {
		t.Fatalf("walk: %v %v", walked, err)
	}
	// SkipDir on a directory skips its children; on a file, the rest of
	// the directory (filepath.WalkDir semantics, which fsutil relies on).
	walked = nil
	bc.FS(0).Walk(context.Background(), "", func(p string, d gofs.DirEntry, err error) error {
		walked = append(walked, p)
		if p == "src" || p == "files/one.txt" {
			return filepath.SkipDir
		}
		return nil
	})
	want = []string{".dockerignore", "Dockerfile", "files", "files/one.txt", "keep.log", "link", "src", "third_party", "third_party/vendor", "third_party/vendor/lib.c"}
	if !reflect.DeepEqual(walked, want) {
		t.Fatalf("walk with SkipDir\n got %v\nwant %v", walked, want)
	}
	rc, err := bc.FS(0).Open("third_party/vendor/lib.c")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := bc.FS(0).Open("secret/key"); err == nil {
		t.Fatal("an ignored file can be opened through the context")
	}
}

func TestLoadContextErrors(t *testing.T) {
	root := t.TempDir()
	pkg := filepath.Join(root, "pkg")
	write(t, filepath.Join(pkg, "Dockerfile"), "FROM scratch\n", 0o644)
	if _, err := loadContext(pkg, "Dockerfile", []string{"../missing:x"}); err == nil {
		t.Fatal("missing extra source accepted")
	}
	write(t, filepath.Join(root, "f"), "x", 0o644)
	if _, err := loadContext(pkg, "Dockerfile", []string{"../f:Dockerfile"}); err == nil {
		t.Fatal("extra source overwriting a package file accepted")
	}
}
