package pkgbuild

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/manifest"
)

// tagFixture is a package using a cached base image, an extra source and
// a .dockerignore, so that every kind of input can be changed.
type tagFixture struct {
	root, pkg, extra string
	cache            *cache.Cache
}

func newTagFixture(t *testing.T) *tagFixture {
	t.Helper()
	f := &tagFixture{root: t.TempDir()}
	f.pkg = filepath.Join(f.root, "pkg")
	f.extra = filepath.Join(f.root, "extra")
	var err error
	if f.cache, err = cache.Open(filepath.Join(f.root, "cache")); err != nil {
		t.Fatal(err)
	}
	f.setBase(t, 1)
	write(t, filepath.Join(f.pkg, "build.yml"), "image: foo\norg: test\narches: [amd64, arm64]\nextra-sources: [\"../extra:vendor\"]\nbuildArgs: [\"VERSION=1.0\"]\n", 0o644)
	write(t, filepath.Join(f.pkg, "Dockerfile"), "FROM test/base:1\nARG VERSION\nCOPY . /src\n", 0o644)
	write(t, filepath.Join(f.pkg, "main.c"), "int main(){return 0;}\n", 0o644)
	write(t, filepath.Join(f.pkg, ".dockerignore"), "*.log\n", 0o644)
	write(t, filepath.Join(f.pkg, "build.log"), "ignored\n", 0o644)
	write(t, filepath.Join(f.extra, "lib.c"), "int lib;\n", 0o644)
	return f
}

// setBase stores a new random image as test/base:1.
func (f *tagFixture) setBase(t *testing.T, seed int64) {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := manifest.Index([]manifest.PlatformImage{{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Image: img}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cache.WriteIndex(context.Background(), "test/base:1", idx); err != nil {
		t.Fatal(err)
	}
}

func (f *tagFixture) tag(t *testing.T) string {
	t.Helper()
	pkgs, err := NewLoader(LoadOptions{Cache: f.cache}).Load(f.pkg)
	if err != nil {
		t.Fatal(err)
	}
	return pkgs[0].Tag
}

func write(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func TestTagChangesWithEveryInput(t *testing.T) {
	tests := []struct {
		name    string
		change  func(t *testing.T, f *tagFixture)
		changes bool
	}{
		{"nothing", func(t *testing.T, f *tagFixture) {}, false},
		{"mtime only", func(t *testing.T, f *tagFixture) {
			later := time.Now().Add(time.Hour)
			os.Chtimes(filepath.Join(f.pkg, "main.c"), later, later)
		}, false},
		{"ignored file", func(t *testing.T, f *tagFixture) { write(t, filepath.Join(f.pkg, "build.log"), "other\n", 0o644) }, false},
		{"one file's content", func(t *testing.T, f *tagFixture) {
			write(t, filepath.Join(f.pkg, "main.c"), "int main(){return 1;}\n", 0o644)
		}, true},
		{"a mode bit", func(t *testing.T, f *tagFixture) { os.Chmod(filepath.Join(f.pkg, "main.c"), 0o755) }, true},
		{"a new file", func(t *testing.T, f *tagFixture) { write(t, filepath.Join(f.pkg, "new.h"), "", 0o644) }, true},
		{"a renamed file", func(t *testing.T, f *tagFixture) {
			os.Rename(filepath.Join(f.pkg, "main.c"), filepath.Join(f.pkg, "main2.c"))
		}, true},
		{"a symlink", func(t *testing.T, f *tagFixture) { os.Symlink("main.c", filepath.Join(f.pkg, "link.c")) }, true},
		{"the Dockerfile", func(t *testing.T, f *tagFixture) {
			write(t, filepath.Join(f.pkg, "Dockerfile"), "FROM test/base:1\nARG VERSION\nCOPY . /src/\n", 0o644)
		}, true},
		{"a build arg", func(t *testing.T, f *tagFixture) {
			write(t, filepath.Join(f.pkg, "build.yml"), "image: foo\norg: test\narches: [amd64, arm64]\nextra-sources: [\"../extra:vendor\"]\nbuildArgs: [\"VERSION=1.1\"]\n", 0o644)
		}, true},
		{"the base image digest", func(t *testing.T, f *tagFixture) { f.setBase(t, 2) }, true},
		{"an extra source's content", func(t *testing.T, f *tagFixture) { write(t, filepath.Join(f.extra, "lib.c"), "int lib2;\n", 0o644) }, true},
		{"an extra source's exec bit", func(t *testing.T, f *tagFixture) { os.Chmod(filepath.Join(f.extra, "lib.c"), 0o755) }, true},
		{"another umask (group-writable files and dirs)", func(t *testing.T, f *tagFixture) {
			os.Chmod(filepath.Join(f.pkg, "main.c"), 0o664)
			os.Chmod(f.pkg, 0o775)
			os.Chmod(filepath.Join(f.extra, "lib.c"), 0o444)
		}, false},
		{"the platform list", func(t *testing.T, f *tagFixture) {
			write(t, filepath.Join(f.pkg, "build.yml"), "image: foo\norg: test\narches: [amd64]\nextra-sources: [\"../extra:vendor\"]\nbuildArgs: [\"VERSION=1.0\"]\n", 0o644)
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newTagFixture(t)
			before := f.tag(t)
			if again := f.tag(t); again != before {
				t.Fatalf("tag not stable: %s then %s", before, again)
			}
			tc.change(t, f)
			after := f.tag(t)
			if (after != before) != tc.changes {
				t.Fatalf("changing %s: tag %s -> %s, want changed=%v", tc.name, before, after, tc.changes)
			}
		})
	}
}

func TestTagIsMachineIndependent(t *testing.T) {
	// The same sources in two different directories give the same tag:
	// nothing about the checkout location enters the hash.
	a, b := newTagFixture(t), newTagFixture(t)
	b.cache = a.cache
	if ta, tb := a.tag(t), b.tag(t); ta != tb {
		t.Fatalf("same inputs in %s and %s gave tags %s and %s", a.root, b.root, ta, tb)
	}
}

func TestTagTemplate(t *testing.T) {
	f := newTagFixture(t)
	hash := f.tag(t)
	write(t, filepath.Join(f.pkg, "build.yml"), "image: foo\norg: test\ntag: \"6.6-{{.Hash}}\"\narches: [amd64, arm64]\nextra-sources: [\"../extra:vendor\"]\nbuildArgs: [\"VERSION=1.0\"]\n", 0o644)
	got := f.tag(t)
	if len(got) != len("6.6-")+40 || got[:4] != "6.6-" {
		t.Fatalf("templated tag %q, want 6.6-<40 hex>", got)
	}
	if got[4:] == hash {
		t.Fatalf("build.yml changed but the hash did not")
	}
}

func TestUnresolvableBaseIsAnError(t *testing.T) {
	f := newTagFixture(t)
	write(t, filepath.Join(f.pkg, "Dockerfile"), "FROM test/missing:1\n", 0o644)
	_, err := NewLoader(LoadOptions{Cache: f.cache}).Load(f.pkg)
	if err == nil || !strings.Contains(err.Error(), "test/missing:1") || !strings.Contains(err.Error(), "never pull") {
		t.Fatalf("want an error naming test/missing:1 and saying builds never pull, got %v", err)
	}
}

func TestLiteralFromOfATreePackageIsADependency(t *testing.T) {
	root := t.TempDir()
	base := filepath.Join(root, "base")
	write(t, filepath.Join(base, "build.yml"), "image: base\norg: test\n", 0o644)
	write(t, filepath.Join(base, "Dockerfile"), "FROM scratch\nCOPY build.yml /\n", 0o644)
	pkgs, err := NewLoader(LoadOptions{}).Load(base)
	if err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(root, "child")
	write(t, filepath.Join(child, "build.yml"), "image: child\norg: test\n", 0o644)
	write(t, filepath.Join(child, "Dockerfile"), "FROM "+pkgs[0].Ref()+"\n", 0o644)

	all, err := NewLoader(LoadOptions{}).Load(root + "/...")
	if err != nil {
		t.Fatal(err)
	}
	var c *Package
	for _, p := range all {
		if p.Image == "child" {
			c = p
		}
	}
	if c == nil || len(c.Deps) != 1 || c.Deps[0].Image != "base" {
		t.Fatalf("child deps: %+v", c)
	}
	if order := WithDeps([]*Package{c}); len(order) != 2 || order[0].Image != "base" {
		t.Fatalf("build order %v", order)
	}
	// Alone (base not named), the literal tag is an unknown image.
	if _, err := NewLoader(LoadOptions{}).Load(child); err == nil || !strings.Contains(err.Error(), "never pull") {
		t.Fatalf("child alone: %v", err)
	}
}

// --org says where images are stored, not what they are: tags of a
// package and of what builds on it do not change with it.
func TestTagDoesNotDependOnOrg(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "base", "build.yml"), "image: base\norg: test\n", 0o644)
	write(t, filepath.Join(root, "base", "Dockerfile"), "FROM scratch\nCOPY build.yml /\n", 0o644)
	write(t, filepath.Join(root, "app", "build.yml"), "image: app\norg: test\nbuildArgs: [\"BASE=@lkt:pkg:../base\"]\n", 0o644)
	write(t, filepath.Join(root, "app", "Dockerfile"), "ARG BASE\nFROM ${BASE}\n", 0o644)
	tags := func(org string) []string {
		pkgs, err := NewLoader(LoadOptions{Org: org}).Load(root + "/...")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range pkgs {
			out = append(out, p.Tag)
		}
		return out
	}
	a, b := tags(""), tags("registry.example.com:5000/team")
	if strings.Join(a, " ") != strings.Join(b, " ") {
		t.Fatalf("tags with and without --org: %v vs %v", a, b)
	}
}
