package deb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/ulikunitz/xz"
)

// testArchive is a tiny signed archive on disk, served over HTTP on
// 127.0.0.1 by an httptest server that logs request paths.
type testArchive struct {
	root    string
	key     *testKey
	kr      *Keyring
	deb     []byte // the one .deb's content
	debName string
	srv     *httptest.Server

	mu       sync.Mutex
	requests []string
}

type archiveOpts struct {
	compressors []string // of ".xz", ".gz", ""; default all three
	byHash      bool     // Acquire-By-Hash: yes, with by-hash copies
	validUntil  time.Time
}

func newTestArchive(t *testing.T, o archiveOpts) *testArchive {
	t.Helper()
	a := &testArchive{root: t.TempDir(), key: newTestKey(t, "archive", t0.Add(-time.Hour), 0)}
	a.kr = keyringOf(t, a.key)
	a.deb = []byte("!<arch>\nnot really a deb, but bytes with a digest\n")
	a.debName = "pool/main/h/hello/hello_2.10-3_amd64.deb"
	a.write(t, a.debName, a.deb)

	packages := pk("libc6 2.36-9 amd64", "Multi-Arch: same") + "\n" +
		fmt.Sprintf("Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nDepends: libc6 (>= 2.34)\nFilename: %s\nSize: %d\nSHA256: %s\n",
			a.debName, len(a.deb), sha(a.deb))
	if o.compressors == nil {
		o.compressors = []string{".xz", ".gz", ""}
	}
	files := map[string]FileHash{}
	for _, ext := range o.compressors {
		data := compress(t, ext, []byte(packages))
		name := "main/binary-amd64/Packages" + ext
		files[name] = FileHash{sha(data), int64(len(data))}
		a.write(t, "dists/testy/"+name, data)
		if o.byHash {
			a.write(t, "dists/testy/main/binary-amd64/by-hash/SHA256/"+sha(data), data)
		}
	}
	var extra []string
	if o.byHash {
		extra = append(extra, "Acquire-By-Hash: yes")
	}
	if !o.validUntil.IsZero() {
		extra = append(extra, "Valid-Until: "+o.validUntil.Format(time.RFC1123))
	}
	a.write(t, "dists/testy/InRelease", clearsignText(t, releaseText(t0, files, extra...), t0, 0, a.key))

	fs := http.FileServer(http.Dir(a.root))
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests = append(a.requests, r.URL.Path)
		a.mu.Unlock()
		fs.ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func compress(t *testing.T, ext string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch ext {
	case ".xz":
		w, err := xz.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
	case ".gz":
		w := gzip.NewWriter(&buf)
		w.Write(data)
		w.Close()
	default:
		buf.Write(data)
	}
	return buf.Bytes()
}

func (a *testArchive) write(t *testing.T, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(a.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (a *testArchive) takeRequests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.requests
	a.requests = nil
	return r
}

// validNow is a time at which the test archive's InRelease is valid.
var validNow = t0.Add(time.Hour)

// releasedClient is a client with an empty cache that has fetched the
// test archive's verified InRelease.
func releasedClient(t *testing.T, progress io.Writer) (*testArchive, *Client, *Release) {
	t.Helper()
	a := newTestArchive(t, archiveOpts{})
	c := &Client{CacheDir: t.TempDir(), Progress: progress}
	rel, err := c.Release(context.Background(), a.srv.URL, "testy", a.kr, validNow)
	if err != nil {
		t.Fatal(err)
	}
	return a, c, rel
}

func TestClientRoundTrip(t *testing.T) {
	ctx := context.Background()
	var progress bytes.Buffer
	a, c, rel := releasedClient(t, &progress)
	if rel.Dist != "testy" || rel.SignedBy != a.key.fingerprint() {
		t.Fatalf("Release = %+v", rel)
	}
	pkgs, err := c.Packages(ctx, a.srv.URL, rel, "main", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || pkgs[1].Name != "hello" || pkgs[1].Repository != "testy/main" {
		t.Fatalf("Packages = %v", pkgs)
	}
	if got := a.takeRequests(); !equal(got, "/dists/testy/InRelease", "/dists/testy/main/binary-amd64/Packages.xz") {
		t.Fatalf("requests = %v, want InRelease then Packages.xz", got)
	}

	hello := pkgs[1]
	path, err := c.Fetch(ctx, a.srv.URL, hello.Filename, hello.SHA256, hello.Size)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, a.deb) {
		t.Fatalf("cached file content differs")
	}

	// Second round: everything from the cache, no request at all.
	a.takeRequests()
	if _, err := c.Packages(ctx, a.srv.URL, rel, "main", "amd64"); err != nil {
		t.Fatal(err)
	}
	if p2, err := c.Fetch(ctx, a.srv.URL, hello.Filename, hello.SHA256, hello.Size); err != nil || p2 != path {
		t.Fatalf("cached Fetch = %q, %v", p2, err)
	}
	if got := a.takeRequests(); len(got) != 0 {
		t.Fatalf("cache hits made requests: %v", got)
	}
	if !strings.Contains(progress.String(), "fetch "+a.srv.URL+"/"+hello.Filename) {
		t.Errorf("progress does not mention the download:\n%s", progress.String())
	}

	// The same archive through file://.
	fc := &Client{CacheDir: t.TempDir()}
	base := "file://" + filepath.ToSlash(a.root)
	frel, err := fc.Release(ctx, base, "testy", a.kr, validNow)
	if err != nil {
		t.Fatal(err)
	}
	if frel.SHA256 != rel.SHA256 {
		t.Fatalf("file:// InRelease differs")
	}
	if _, err := fc.Packages(ctx, base, frel, "main", "amd64"); err != nil {
		t.Fatal(err)
	}
	if _, err := fc.Fetch(ctx, base, hello.Filename, hello.SHA256, hello.Size); err != nil {
		t.Fatal(err)
	}
}

func equal(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestClientCompressionChoice(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		opts  archiveOpts
		wants []string
	}{
		{"gz when no xz", archiveOpts{compressors: []string{".gz", ""}}, []string{"/dists/testy/main/binary-amd64/Packages.gz"}},
		{"plain only", archiveOpts{compressors: []string{""}}, []string{"/dists/testy/main/binary-amd64/Packages"}},
		{"by-hash first", archiveOpts{byHash: true}, []string{"/dists/testy/main/binary-amd64/by-hash/SHA256/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestArchive(t, tc.opts)
			c := &Client{CacheDir: t.TempDir()}
			rel, err := c.Release(ctx, a.srv.URL, "testy", a.kr, validNow)
			if err != nil {
				t.Fatal(err)
			}
			a.takeRequests()
			pkgs, err := c.Packages(ctx, a.srv.URL, rel, "main", "amd64")
			if err != nil || len(pkgs) != 2 {
				t.Fatalf("Packages = %v, %v", pkgs, err)
			}
			got := a.takeRequests()
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.wants[0]) {
				t.Fatalf("requests = %v, want %v", got, tc.wants)
			}
		})
	}
}

func TestClientByHashFallsBack(t *testing.T) {
	ctx := context.Background()
	a := newTestArchive(t, archiveOpts{byHash: true})
	os.RemoveAll(filepath.Join(a.root, "dists/testy/main/binary-amd64/by-hash"))
	c := &Client{CacheDir: t.TempDir()}
	rel, err := c.Release(ctx, a.srv.URL, "testy", a.kr, validNow)
	if err != nil {
		t.Fatal(err)
	}
	a.takeRequests()
	if _, err := c.Packages(ctx, a.srv.URL, rel, "main", "amd64"); err != nil {
		t.Fatal(err)
	}
	got := a.takeRequests()
	if len(got) != 2 || !strings.Contains(got[0], "/by-hash/") || got[1] != "/dists/testy/main/binary-amd64/Packages.xz" {
		t.Fatalf("requests = %v, want by-hash then the plain name", got)
	}
}

func TestClientReleaseOffline(t *testing.T) {
	ctx := context.Background()
	a := newTestArchive(t, archiveOpts{validUntil: t0.Add(24 * time.Hour)})
	cache := t.TempDir()
	if _, err := (&Client{CacheDir: cache}).Release(ctx, a.srv.URL, "testy", a.kr, validNow); err != nil {
		t.Fatal(err)
	}
	url := a.srv.URL
	a.srv.Close() // the archive goes away

	var progress bytes.Buffer
	c := &Client{CacheDir: cache, Progress: &progress}
	rel, err := c.Release(ctx, url, "testy", a.kr, validNow)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Codename != "testy" || !strings.Contains(progress.String(), "using the cached InRelease, verified again") {
		t.Fatalf("offline Release = %+v, progress %q", rel, progress.String())
	}
	// The cached copy is verified again: past Valid-Until it is refused.
	_, err = c.Release(ctx, url, "testy", a.kr, t0.Add(48*time.Hour))
	wantErrIs(t, err, ErrReleaseExpired, "cached copy of "+url)
	// And with the wrong keyring too.
	_, err = c.Release(ctx, url, "testy", keyringOf(t, newTestKey(t, "stranger", t0, 0)), validNow)
	wantErrIs(t, err, ErrUnknownKey)
	// No cached copy for another suite: the network error is reported.
	_, err = c.Release(ctx, url, "other", a.kr, validNow)
	wantErr(t, err, "no cached copy")
}

func TestClientReleaseRefusals(t *testing.T) {
	ctx := context.Background()
	a := newTestArchive(t, archiveOpts{})
	cache := t.TempDir()
	c := &Client{CacheDir: cache}
	if _, err := c.Release(ctx, a.srv.URL, "testy", a.kr, validNow); err != nil {
		t.Fatal(err)
	}
	// A 404 is an answer, not an outage: no fallback to the cache.
	os.Remove(filepath.Join(a.root, "dists/testy/InRelease"))
	_, err := c.Release(ctx, a.srv.URL, "testy", a.kr, validNow)
	wantErr(t, err, "404")

	// A validly signed InRelease of another suite is refused.
	b := newTestArchive(t, archiveOpts{})
	data, _ := os.ReadFile(filepath.Join(b.root, "dists/testy/InRelease"))
	b.write(t, "dists/stable-updates/InRelease", data)
	_, err = c.Release(ctx, b.srv.URL, "stable-updates", b.kr, validNow)
	wantErr(t, err, "conflicting distribution", "asked for stable-updates", `Codename "testy"`)

	_, err = c.Release(ctx, b.srv.URL, "../testy", b.kr, validNow)
	wantErr(t, err, "suite")
	_, err = (&Client{}).Release(ctx, b.srv.URL, "testy", b.kr, validNow)
	wantErr(t, err, "CacheDir")
	_, err = c.Release(ctx, "ftp://example.org/debian", "testy", b.kr, validNow)
	wantErr(t, err, "unsupported scheme")
}

func TestClientPackagesHashMismatch(t *testing.T) {
	ctx := context.Background()
	a, c, rel := releasedClient(t, nil)
	// Same size, one byte different.
	p := filepath.Join(a.root, "dists/testy/main/binary-amd64/Packages.xz")
	data, _ := os.ReadFile(p)
	want := sha(data)
	data[len(data)/2] ^= 0xff
	os.WriteFile(p, data, 0o644)
	_, err := c.Packages(ctx, a.srv.URL, rel, "main", "amd64")
	wantErrIs(t, err, ErrHashMismatch, "dists/testy/main/binary-amd64/Packages.xz", "expected "+want, "got "+sha(data))
	if _, err := os.Stat(filepath.Join(c.CacheDir, "sha256", want)); !os.IsNotExist(err) {
		t.Fatalf("mismatching file reached the cache: %v", err)
	}
	// No component or architecture of that name.
	_, err = c.Packages(ctx, a.srv.URL, rel, "main", "riscv64")
	wantErr(t, err, "no Packages index for main/binary-riscv64/Packages")
}

func TestClientFetchRefusals(t *testing.T) {
	ctx := context.Background()
	a := newTestArchive(t, archiveOpts{})
	c := &Client{CacheDir: t.TempDir()}
	good := sha(a.deb)
	size := int64(len(a.deb))
	tests := []struct {
		name, file, sum string
		size            int64
		frags           []string
		hash            bool
	}{
		{"short", a.debName, good, size + 1, []string{"size: expected", "got " + fmt.Sprint(size)}, true},
		{"long", a.debName, good, size - 1, []string{"size: expected", "got " + fmt.Sprint(size)}, true},
		{"wrong sha256", a.debName, strings.Repeat("0", 64), size, []string{"sha256: expected " + strings.Repeat("0", 64), "got " + good}, true},
		{"missing", "pool/nope.deb", good, size, []string{"404"}, false},
		{"absolute", "/etc/passwd", good, size, []string{"absolute"}, false},
		{"dotdot", "pool/../../x", good, size, []string{`".."`}, false},
		{"dot", "pool/./x", good, size, []string{"not canonical"}, false},
		{"double slash", "pool//x", good, size, []string{"not canonical"}, false},
		{"bad digest", a.debName, "abc", size, []string{"64 hex"}, false},
		{"negative size", a.debName, good, -1, []string{"negative size"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Fetch(ctx, a.srv.URL, tc.file, tc.sum, tc.size)
			wantErr(t, err, tc.frags...)
			if errors.Is(err, ErrHashMismatch) != tc.hash {
				t.Fatalf("errors.Is(%v, ErrHashMismatch) = %v", err, !tc.hash)
			}
		})
	}
	entries, _ := os.ReadDir(filepath.Join(c.CacheDir, "sha256"))
	if len(entries) != 0 {
		t.Fatalf("refused downloads left files in the cache: %v", entries)
	}
}

func TestClientCacheCorruption(t *testing.T) {
	ctx := context.Background()
	var progress bytes.Buffer
	a, c, rel := releasedClient(t, &progress)
	if _, err := c.Packages(ctx, a.srv.URL, rel, "main", "amd64"); err != nil {
		t.Fatal(err)
	}
	path, err := c.Fetch(ctx, a.srv.URL, a.debName, sha(a.deb), int64(len(a.deb)))
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte in the cached .deb and in the cached uncompressed
	// index, keeping their sizes: both must be noticed and fetched again.
	flip := func(p string) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 1
		os.WriteFile(p, data, 0o644)
	}
	flip(path)
	flip(c.blobPath(rel.Files["main/binary-amd64/Packages"].SHA256))
	a.takeRequests()

	pkgs, err := c.Packages(ctx, a.srv.URL, rel, "main", "amd64")
	if err != nil || len(pkgs) != 2 {
		t.Fatalf("Packages after corruption: %v, %v", pkgs, err)
	}
	if _, err := c.Fetch(ctx, a.srv.URL, a.debName, sha(a.deb), int64(len(a.deb))); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, a.deb) {
		t.Fatal("corrupt cache entry was not replaced")
	}
	// The .xz was intact in the cache, so only the .deb is downloaded.
	if got := a.takeRequests(); !equal(got, "/"+a.debName) {
		t.Fatalf("requests = %v, want only the .deb", got)
	}
	if n := strings.Count(progress.String(), "is corrupt"); n != 2 {
		t.Fatalf("progress mentions %d corrupt entries, want 2:\n%s", n, progress.String())
	}
}
