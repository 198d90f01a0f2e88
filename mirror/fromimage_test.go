package mirror

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/assemble/layer"
	"github.com/lkpkg/lkpkg/assemble/layer/layertest"
)

// oneImage serves img for every ref and platform.
type oneImage struct{ img v1.Image }

func (o oneImage) Image(string, v1.Platform) (v1.Image, error) { return o.img, nil }

// confinedUnpacker is what cmd/lkpkg passes: assemble/layer's unpack and
// moves, inside an os.Root.
type confinedUnpacker struct{}

func (confinedUnpacker) Unpack(dir string, img v1.Image) error {
	return layer.Unpack(dir, img, layer.Options{})
}

func (confinedUnpacker) MoveFiles(dir, from, to string) error { return layer.MoveFiles(dir, from, to) }

// hostileMirrorImages are mirror images whose /mirror reaches a host
// directory (HOST in a name or target): through a symlink at each level,
// a relative one climbing out with "..", a ".." entry name and a hard
// link. `mirror fetch --from-image` once moved such a directory's files
// into its work directory and deleted them with it.
var hostileMirrorImages = []struct {
	name    string
	entries func(host string) []layertest.Entry
}{
	{"mirror is a symlink to a host dir", func(host string) []layertest.Entry {
		return []layertest.Entry{layertest.Sym("mirror", host)}
	}},
	{"mirror/debian is a symlink to a host dir", func(host string) []layertest.Entry {
		return []layertest.Entry{layertest.Dir("mirror/"), layertest.Sym("mirror/debian", host+"/debian")}
	}},
	{"mirror/debian/pool is a symlink to a host dir", func(host string) []layertest.Entry {
		return []layertest.Entry{layertest.Dir("mirror/"), layertest.Dir("mirror/debian/"), layertest.Sym("mirror/debian/pool", host+"/debian/pool")}
	}},
	{"relative symlink climbing out", func(host string) []layertest.Entry {
		return []layertest.Entry{layertest.Sym("mirror", strings.Repeat("../", 32)+strings.TrimPrefix(host, "/"))}
	}},
	{"entry name climbing out", func(host string) []layertest.Entry {
		return []layertest.Entry{layertest.File("mirror/debian/../../../../../../../../.."+host+"/planted.deb", "x")}
	}},
	{"hard link to a host file", func(host string) []layertest.Entry {
		return []layertest.Entry{layertest.Dir("mirror/"), layertest.Dir("mirror/debian/"), layertest.Hard("mirror/debian/secret.deb", host+"/secret.deb")}
	}},
}

// writeHostDir is a host directory of files a hostile image aims at;
// hostDirFiles lists it.
func writeHostDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{"secret.deb": "host secret", "debian/pool/main/h/hello.deb": "host deb"}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func hostDirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestDebsFromImageStaysInItsDirectory(t *testing.T) {
	yml := "image: tc\ndebian:\n  sources:\n    - url: http://127.0.0.1:9/debian\n      suite: bookworm\n      components: [main]\n  keyring: keys\n  arches: [amd64]\n  packages: [hello]\n"
	c, err := ParseConfig(filepath.Join(t.TempDir(), "mirror.yml"), []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range hostileMirrorImages {
		t.Run(tc.name, func(t *testing.T) {
			host := t.TempDir()
			want := writeHostDir(t, host)
			tmp := t.TempDir() // where DebsFromImage works
			t.Setenv("TMPDIR", tmp)
			img := layertest.Image(t, layertest.Tar(t, tc.entries(host)...))
			up, cleanup, err := DebsFromImage(c, oneImage{img}, "test/tc:1", confinedUnpacker{})
			if err == nil {
				// Accepted: then the pool must hold none of the host's files.
				pool := strings.TrimPrefix(up, "file://")
				if _, err := os.Stat(pool); err != nil {
					t.Logf("accepted, with no pool: %v", err)
				} else if got := hostDirFiles(t, pool); len(got) > 0 {
					t.Errorf("the pool holds files from outside the image: %v", got)
				}
			}
			t.Logf("DebsFromImage: %v", err)
			cleanup()
			if got := hostDirFiles(t, host); !mapsEqual(got, want) {
				t.Fatalf("the host dir changed (err %v):\n got %v\nwant %v", err, got, want)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("left in TMPDIR: %v", left)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
