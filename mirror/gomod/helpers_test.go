package gomod

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/note"
	modzip "golang.org/x/mod/zip"
)

var testEpoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// realClient talks to the real proxy and checksum database, with a cache
// that outlives the test so reruns work offline.
func realClient(t *testing.T) *Client {
	t.Helper()
	if testing.Short() {
		t.Skip("uses the real module proxy (skipped with -short)")
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no user cache directory: %v", err)
	}
	return &Client{CacheDir: filepath.Join(dir, "lkpkg-test", "gomod"), Progress: testWriter{t}}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// fakeModule is a module version the fake world serves.
type fakeModule struct {
	path, version string
	goMod         string            // "" = "module PATH\n"
	files         map[string]string // besides go.mod
}

func (f fakeModule) key() string { return f.path + "@" + f.version }

// built is a fakeModule's proxy files.
type built struct {
	info, mod, zip []byte
}

// fakeWorld is a module proxy with a checksum database on 127.0.0.1,
// signed with a key made for the test: hermetic Lookup/Download/Closure.
type fakeWorld struct {
	t    *testing.T
	srv  *httptest.Server
	vkey string

	mu     sync.Mutex
	mods   map[string]*built
	served map[string]*built // what the proxy serves, when not mods (tampering)
	hits   int
}

func newFakeWorld(t *testing.T, mods ...fakeModule) *fakeWorld {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "sum.test")
	if err != nil {
		t.Fatal(err)
	}
	w := &fakeWorld{t: t, vkey: vkey, mods: map[string]*built{}, served: map[string]*built{}}
	for _, m := range mods {
		w.mods[m.key()] = buildFake(t, m)
	}
	db := sumdb.NewTestServer(skey, func(path, vers string) ([]byte, error) {
		w.mu.Lock()
		b := w.mods[path+"@"+vers]
		w.mu.Unlock()
		if b == nil {
			return nil, os.ErrNotExist // a 404, as for an unknown module
		}
		return GoSum([]Module{sums(t, path, vers, b)}), nil
	})
	dbh := http.StripPrefix("/sumdb/sum.test", sumdb.NewServer(db))
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.hits++
		w.mu.Unlock()
		if r.URL.Path == "/sumdb/sum.test/supported" {
			return
		}
		if strings.HasPrefix(r.URL.Path, "/sumdb/sum.test/") {
			dbh.ServeHTTP(rw, r)
			return
		}
		w.serveProxy(rw, r)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *fakeWorld) serveProxy(rw http.ResponseWriter, r *http.Request) {
	epath, file, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/@v/")
	path, err := module.UnescapePath(epath)
	if !ok || err != nil {
		http.NotFound(rw, r)
		return
	}
	ext := filepath.Ext(file)
	vers, err := module.UnescapeVersion(strings.TrimSuffix(file, ext))
	if err != nil {
		http.NotFound(rw, r)
		return
	}
	w.mu.Lock()
	b := w.served[path+"@"+vers]
	if b == nil {
		b = w.mods[path+"@"+vers]
	}
	w.mu.Unlock()
	if b == nil {
		http.Error(rw, "not found: unknown module", http.StatusNotFound)
		return
	}
	switch ext {
	case ".info":
		rw.Write(b.info)
	case ".mod":
		rw.Write(b.mod)
	case ".zip":
		rw.Write(b.zip)
	default:
		http.NotFound(rw, r)
	}
}

// client is a Client of the fake world with a fresh cache.
func (w *fakeWorld) client() *Client {
	return &Client{Proxy: w.srv.URL, SumDB: w.vkey, CacheDir: w.t.TempDir(), Progress: testWriter{w.t}}
}

// module is the real hashes of a module of the fake world.
func (w *fakeWorld) module(key string) Module {
	path, vers, _ := strings.Cut(key, "@")
	return sums(w.t, path, vers, w.mods[key])
}

func buildFake(t *testing.T, m fakeModule) *built {
	t.Helper()
	goMod := m.goMod
	if goMod == "" {
		goMod = "module " + m.path + "\n"
	}
	var files []modzip.File
	files = append(files, memZipFile{"go.mod", goMod})
	for name, content := range m.files {
		files = append(files, memZipFile{name, content})
	}
	var zb bytes.Buffer
	if err := modzip.Create(&zb, module.Version{Path: m.path, Version: m.version}, files); err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]any{"Version": m.version, "Time": "2023-05-06T07:08:09Z", "Origin": map[string]string{"VCS": "git"}})
	return &built{info: info, mod: []byte(goMod), zip: zb.Bytes()}
}

func sums(t *testing.T, path, vers string, b *built) Module {
	t.Helper()
	m := Module{Path: path, Version: vers}
	var err error
	if m.GoModSum, err = goModHash(b.mod); err != nil {
		t.Fatal(err)
	}
	z := filepath.Join(t.TempDir(), "m.zip")
	if err := os.WriteFile(z, b.zip, 0o644); err != nil {
		t.Fatal(err)
	}
	if m.Sum, err = dirhash.HashZip(z, dirhash.Hash1); err != nil {
		t.Fatal(err)
	}
	return m
}

// memZipFile is a modzip.File in memory.
type memZipFile struct{ name, content string }

func (f memZipFile) Path() string                { return f.name }
func (f memZipFile) Lstat() (os.FileInfo, error) { return memInfo{f}, nil }
func (f memZipFile) Open() (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(f.content)), nil
}

type memInfo struct{ f memZipFile }

func (i memInfo) Name() string       { return filepath.Base(i.f.name) }
func (i memInfo) Size() int64        { return int64(len(i.f.content)) }
func (i memInfo) Mode() os.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// tarEntry is a header of an extracted tar.
type tarEntry struct {
	hdr  *tar.Header
	data []byte // regular files only, when kept
}

// readTar reads every header (and small files' data) of a tar, extracting
// it below dir unless dir is "". names are the entries in tar order.
func readTar(t *testing.T, r io.Reader, dir string) (entries map[string]tarEntry, names []string) {
	t.Helper()
	out := map[string]tarEntry{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, names
		}
		if err != nil {
			t.Fatal(err)
		}
		e := tarEntry{hdr: h}
		if h.Typeflag == tar.TypeReg && h.Size < 1<<16 {
			if e.data, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
		out[h.Name] = e
		names = append(names, h.Name)
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			var src io.Reader = tr
			if e.data != nil {
				src = bytes.NewReader(e.data)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, src); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected tar entry type %c for %s", h.Typeflag, h.Name)
		}
	}
}

// checkReproducibleHeaders asserts what every entry of our tars has in
// common: root-owned, the epoch as mtime, no access/change times and no
// PAX records but a long name's path.
func checkReproducibleHeaders(t *testing.T, entries map[string]tarEntry) {
	t.Helper()
	for name, e := range entries {
		h := e.hdr
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(testEpoch) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: uid %d gid %d mtime %v atime %v ctime %v", name, h.Uid, h.Gid, h.ModTime, h.AccessTime, h.ChangeTime)
		}
		for k := range h.PAXRecords {
			if k != "path" {
				t.Errorf("%s: PAX record %s", name, k)
			}
		}
	}
}

// goEnv is a clean environment for the go command: nothing inherited that
// could reach the network, switch toolchains or share caches.
func goEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GO") || k == "CGO_ENABLED" || k == "HOME" || k == "XDG_CACHE_HOME" || k == "XDG_CONFIG_HOME" {
			continue
		}
		env = append(env, kv)
	}
	home := t.TempDir()
	env = append(env, "HOME="+home, "GOENV=off", "GOTELEMETRY=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0",
		"GOPATH="+filepath.Join(home, "gopath"), "GOMODCACHE="+filepath.Join(home, "modcache"),
		"GOCACHE="+filepath.Join(home, "gocache"), "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=-mod=mod -modcacherw")
	return append(env, extra...)
}

// runGo runs the go command in dir and returns its combined output.
func runGo(t *testing.T, goBin, dir string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", goBin, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// downloadedWorld is a fake world in which pflagLike has been downloaded.
func downloadedWorld(t *testing.T) (*fakeWorld, *Client, Module, Files) {
	t.Helper()
	w := newFakeWorld(t, pflagLike)
	c := w.client()
	m := w.module(pflagLike.key())
	f, err := c.Download(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return w, c, m, f
}
