package mirror

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/internal/testenv"
	"github.com/lkpkg/lkpkg/mirror/apksign"
)

// serve serves dir over HTTP on 127.0.0.1 for the test.
func serve(t testing.TB, dir string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// expectation reads a package list recorded with the real apk (see
// apk/testdata/expect.sh for the command).
func expectation(t *testing.T, file string) []string {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// fixture is a mirror directory wanting world, with Alpine's keys and a
// fresh signing key. rootfs adds the x86_64 minirootfs as the base.
type fixture struct {
	dir, alpine string
	opts        Options
}

func newFixture(t *testing.T, world []string, rootfs bool) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), alpine: testenv.AlpineDir(t)}
	keys := filepath.Join(f.dir, "keys")
	os.MkdirAll(keys, 0o755)
	entries, _ := os.ReadDir(filepath.Join(f.alpine, "keys"))
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(f.alpine, "keys", e.Name()))
		os.WriteFile(filepath.Join(keys, e.Name()), b, 0o644)
	}
	pub, err := Keygen(f.dir, "test", 2048)
	if err != nil {
		t.Fatal(err)
	}
	yml := fmt.Sprintf("image: alpine\norg: test\nupstream: https://dl-cdn.alpinelinux.org/alpine\nrepositories: [v3.19/main, v3.19/community]\nkeys: keys\narches: [x86_64]\npackages: [%s]\nsigning-key: %s\n",
		strings.Join(world, ", "), filepath.Base(pub))
	if rootfs {
		yml += "rootfs:\n  x86_64: v3.19/releases/x86_64/alpine-minirootfs-3.19.4-x86_64.tar.gz\n"
	}
	if err := os.WriteFile(filepath.Join(f.dir, "mirror.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	f.opts = Options{APKUpstream: serve(t, f.alpine), APKDownloadDir: filepath.Join(f.dir, "downloads")}
	return f
}

func (f *fixture) config(t *testing.T) *Config {
	t.Helper()
	c, err := Load(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lock writes mirror.lock for the fixture and returns its config and
// the lock.
func (f *fixture) lock(t *testing.T) (*Config, *Lock) {
	t.Helper()
	c := f.config(t)
	lock, err := LockAndWrite(context.Background(), c, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, lock
}

func mustUpstream(t *testing.T, c *Config, u string) *Upstream {
	t.Helper()
	up, err := NewUpstream(c, u)
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func mustKeys(t *testing.T, c *Config) *apksign.Keyring {
	t.Helper()
	k, err := c.TrustedKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
