package deb

// Integration tests against the real Debian archive. They share a cache
// under os.UserCacheDir()/lkpkg-test/deb that persists between runs, so a
// rerun without network works from the cached InRelease and files.
// `go test -short` skips them.

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	debianURL   = "http://deb.debian.org/debian"
	securityURL = "http://deb.debian.org/debian-security"
	// Key ids of the signing subkey of the bookworm automatic key and of
	// the bookworm stable release key, which sign bookworm's InRelease.
	idBookwormAutomaticSubkey = "6ED0E7B82643E131"
	idBookwormStable          = "F8D2585B8783D481"
)

// logWriter sends Client progress to the test log.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func realCacheDir(t testing.TB) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "lkpkg-test", "deb")
}

func realClient(t testing.TB) *Client {
	return &Client{CacheDir: realCacheDir(t), Progress: logWriter{t}}
}

func realKeyring(t testing.TB) *Keyring {
	kr, err := LoadKeyring("testdata/keys")
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// offlineClient fails every request, proving that what it returns comes
// from the cache.
func offlineClient(t testing.TB, progress *bytes.Buffer) *Client {
	return &Client{
		CacheDir: realCacheDir(t),
		Progress: progress,
		HTTP: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return nil, errors.New("offline: " + r.URL.String())
		})},
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// bookworm is the shared real archive state, fetched once per test binary.
var bookworm struct {
	once     sync.Once
	rel      *Release
	amd, arm []*Package
	err      error
}

func realBookworm(t testing.TB) (*Release, []*Package, []*Package) {
	if testing.Short() {
		t.Skip("real Debian archive test; skipped in -short mode")
	}
	bookworm.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		c := realClient(t)
		if bookworm.rel, bookworm.err = c.Release(ctx, debianURL, "bookworm", realKeyring(t), time.Now()); bookworm.err != nil {
			return
		}
		if bookworm.amd, bookworm.err = c.Packages(ctx, debianURL, bookworm.rel, "main", "amd64"); bookworm.err != nil {
			return
		}
		bookworm.arm, bookworm.err = c.Packages(ctx, debianURL, bookworm.rel, "main", "arm64")
	})
	if bookworm.err != nil {
		t.Fatalf("real bookworm archive: %v", bookworm.err)
	}
	return bookworm.rel, bookworm.amd, bookworm.arm
}

// cachedInRelease returns the raw InRelease bytes Client cached for url.
func cachedInRelease(t testing.TB, base, suite string) []byte {
	u, err := joinURL(base, "dists/"+suite+"/InRelease")
	if err != nil {
		t.Fatal(err)
	}
	data, err := realClient(t).cachedInRelease(u.String())
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRealRelease(t *testing.T) {
	rel, amd, arm := realBookworm(t)
	if rel.Codename != "bookworm" || rel.Origin != "Debian" || rel.Dist != "bookworm" {
		t.Errorf("Release %s/%s from %s, want Debian bookworm", rel.Origin, rel.Codename, rel.Dist)
	}
	if rel.SignedByPrimary != fprBookwormAutomatic && rel.SignedByPrimary != fprBookwormStable {
		t.Errorf("SignedByPrimary = %s, want a bookworm archive key", rel.SignedByPrimary)
	}
	if !strings.HasSuffix(rel.SignedBy, idBookwormAutomaticSubkey) && rel.SignedBy != fprBookwormStable {
		t.Errorf("SignedBy = %s", rel.SignedBy)
	}
	if rel.Date.IsZero() || rel.Date.After(time.Now()) || !rel.ValidUntil.IsZero() {
		t.Errorf("Date %v, Valid-Until %v", rel.Date, rel.ValidUntil)
	}
	for _, f := range []string{"main/binary-amd64/Packages.xz", "main/binary-arm64/Packages.xz", "main/binary-amd64/Packages"} {
		if fh, ok := rel.Files[f]; !ok || fh.Size == 0 {
			t.Errorf("Files[%s] = %+v", f, fh)
		}
	}
	// Debian's main/amd64 has ~64k packages; arch-all ones are in both.
	if len(amd) < 50000 || len(arm) < 50000 {
		t.Errorf("parsed %d amd64 and %d arm64 packages", len(amd), len(arm))
	}
	if got := sha(cachedInRelease(t, debianURL, "bookworm")); got != rel.SHA256 {
		t.Errorf("Release.SHA256 = %s, cached InRelease hashes to %s", rel.SHA256, got)
	}
}

func TestRealOfflineRelease(t *testing.T) {
	realBookworm(t)
	var progress bytes.Buffer
	c := offlineClient(t, &progress)
	rel, err := c.Release(context.Background(), debianURL, "bookworm", realKeyring(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rel.Codename != "bookworm" || !strings.Contains(progress.String(), "using the cached InRelease, verified again") {
		t.Fatalf("offline Release: %+v; progress %q", rel, progress.String())
	}
	// Indexes come from the cache too.
	pkgs, err := c.Packages(context.Background(), debianURL, rel, "main", "amd64")
	if err != nil || len(pkgs) < 50000 {
		t.Fatalf("offline Packages: %d, %v", len(pkgs), err)
	}
}

func TestRealSecurityRelease(t *testing.T) {
	realBookworm(t)
	kr := realKeyring(t)
	var progress bytes.Buffer
	c := &Client{CacheDir: realCacheDir(t), Progress: &progress}
	rel, err := c.Release(context.Background(), securityURL, "bookworm-security", kr, time.Now())
	if errors.Is(err, ErrReleaseExpired) && strings.Contains(progress.String(), "cached InRelease") {
		// Offline, with a cached copy older than its Valid-Until (a
		// week): refusing it is exactly the behaviour under test.
		t.Logf("offline and the cached bookworm-security InRelease has expired, as expected: %v", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if rel.Codename != "bookworm-security" || rel.SignedByPrimary != fprBookwormSecurity {
		t.Errorf("got %s signed by %s", rel.Codename, rel.SignedByPrimary)
	}
	if rel.ValidUntil.IsZero() || !rel.ValidUntil.After(rel.Date) {
		t.Fatalf("Valid-Until %v, Date %v", rel.ValidUntil, rel.Date)
	}
	data := cachedInRelease(t, securityURL, "bookworm-security")
	_, err = VerifyInRelease(data, kr, rel.ValidUntil.Add(time.Hour))
	wantErrIs(t, err, ErrReleaseExpired, "bookworm-security", "Valid-Until")
	// The main archive's keys do not vouch for the security archive.
	main, _ := LoadKeyring("testdata/keys/debian-archive-bookworm-automatic.gpg")
	_, err = VerifyInRelease(data, main, time.Now())
	wantErrIs(t, err, ErrUnknownKey)
}

func TestRealTamperedInRelease(t *testing.T) {
	rel, _, _ := realBookworm(t)
	data := cachedInRelease(t, debianURL, "bookworm")
	hash := rel.Files["main/binary-amd64/Packages.xz"].SHA256
	i := bytes.Index(data, []byte(hash))
	if i < 0 {
		t.Fatal("Packages.xz hash not in the InRelease")
	}
	tampered := bytes.Clone(data)
	tampered[i] ^= 1 // one hex digit of a Packages hash line
	_, err := VerifyInRelease(tampered, realKeyring(t), time.Now())
	wantErrIs(t, err, ErrBadSignature, "bookworm", idBookwormAutomaticSubkey, "bad signature")
}

func TestRealWrongKeyring(t *testing.T) {
	realBookworm(t)
	data := cachedInRelease(t, debianURL, "bookworm")
	bullseye, err := LoadKeyring("testdata/bullseye-keys")
	if err != nil {
		t.Fatal(err)
	}
	fresh := keyringOf(t, newTestKey(t, "fresh", time.Now().Add(-time.Hour), 0))
	for name, kr := range map[string]*Keyring{"bullseye keys": bullseye, "fresh key": fresh} {
		t.Run(name, func(t *testing.T) {
			_, err := VerifyInRelease(data, kr, time.Now())
			wantErrIs(t, err, ErrUnknownKey, "bookworm", idBookwormAutomaticSubkey, idBookwormStable, "not in keyring")
		})
	}
}

// TestRealPackagesHashMismatch serves the real InRelease with a Packages.xz
// one byte off from 127.0.0.1.
func TestRealPackagesHashMismatch(t *testing.T) {
	rel, _, _ := realBookworm(t)
	inRelease := cachedInRelease(t, debianURL, "bookworm")
	want := rel.Files["main/binary-amd64/Packages.xz"]
	xzData, err := os.ReadFile(realClient(t).blobPath(want.SHA256))
	if err != nil {
		// Only the decompressed index is needed for most runs; fetch
		// the .xz itself (the by-hash name never changes).
		p, ferr := realClient(t).Fetch(context.Background(), debianURL,
			"dists/bookworm/main/binary-amd64/by-hash/SHA256/"+want.SHA256, want.SHA256, want.Size)
		if ferr != nil {
			t.Fatal(ferr)
		}
		if xzData, err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
	}
	bad := bytes.Clone(xzData)
	bad[len(bad)/2] ^= 0x55
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/dists/bookworm/InRelease":
			w.Write(inRelease)
		case strings.HasPrefix(r.URL.Path, "/dists/bookworm/main/binary-amd64/"):
			w.Write(bad)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	c := &Client{CacheDir: t.TempDir(), Progress: logWriter{t}}
	local, err := c.Release(context.Background(), srv.URL, "bookworm", realKeyring(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Packages(context.Background(), srv.URL, local, "main", "amd64")
	wantErrIs(t, err, ErrHashMismatch, "dists/bookworm/main/binary-amd64/Packages.xz", "expected "+want.SHA256, "got "+sha(bad))
}

// satisfiedBy checks a Depends relation against a selection independently
// of the resolver, ignoring Multi-Arch (checked separately).
func satisfiedBy(rel Relation, sel []*Package) bool {
	for _, d := range rel {
		for _, q := range sel {
			if q.Name == d.Name && VersionSatisfies(q.Version, d.Op, d.Version) {
				return true
			}
			for _, pr := range q.Provides {
				if p := pr[0]; p.Name == d.Name && (d.Op == "" || (p.Version != "" && VersionSatisfies(p.Version, d.Op, d.Version))) {
					return true
				}
			}
		}
	}
	return false
}

func TestRealResolve(t *testing.T) {
	_, amd, arm := realBookworm(t)
	ix := NewIndex(amd, arm)
	got, err := ix.Resolve([]string{"make", "libseccomp-dev:arm64", "gcc"}, amd64arm64)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*Package{}
	for _, p := range got {
		byID[p.Name+":"+p.Architecture] = p
		if ix.Lookup(p.Name, p.Version, p.Architecture) != p {
			t.Errorf("%s is not in the index", p)
		}
		// Highest version of its name and architecture.
		for _, q := range ix.Versions(p.Name) {
			if q.Architecture == p.Architecture && CompareVersions(q.Version, p.Version) > 0 {
				t.Errorf("%s selected, but %s exists", p, q.Version)
			}
		}
		for _, rel := range append(append([]Relation{}, p.PreDepends...), p.Depends...) {
			if !satisfiedBy(rel, got) {
				t.Errorf("%s: %s is not satisfied by the selection", p, rel)
			}
		}
	}
	for _, id := range []string{
		"make:amd64", "gcc:amd64", "gcc-12:amd64", "cpp-12:amd64", "binutils:amd64", "libc6:amd64",
		"libseccomp-dev:arm64", "libseccomp2:arm64", "libc6:arm64", "libgcc-s1:arm64", "gcc-12-base:arm64",
	} {
		if byID[id] == nil {
			t.Errorf("%s missing from %v", id, ids(got))
		}
	}
	for _, id := range []string{"libseccomp-dev:amd64", "make:arm64", "gcc:arm64"} {
		if byID[id] != nil {
			t.Errorf("%s should not be selected", id)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for id, prefix := range map[string]string{"make:amd64": "4.3-", "gcc:amd64": "4:12.2.0-", "gcc-12:amd64": "12.2.0-", "libseccomp-dev:arm64": "2.5.4-"} {
		if v := byID[id].Version; !strings.HasPrefix(v, prefix) {
			t.Errorf("%s version %s, want %s*", id, v, prefix)
		}
	}
	if a, b := byID["libc6:amd64"].Version, byID["libc6:arm64"].Version; a != b {
		t.Errorf("libc6 amd64 %s != arm64 %s (Multi-Arch: same)", a, b)
	}
	// gcc-12 pins cpp-12 to its own version.
	if byID["cpp-12:amd64"].Version != byID["gcc-12:amd64"].Version {
		t.Errorf("cpp-12 %s, gcc-12 %s", byID["cpp-12:amd64"].Version, byID["gcc-12:amd64"].Version)
	}
	t.Logf("resolved %d packages", len(got))
}

func TestRealResolveBuilderWorld(t *testing.T) {
	_, amd, arm := realBookworm(t)
	ix := NewIndex(amd, arm)
	opts := ResolveOptions{Native: "amd64", Foreign: []string{"arm64"}, Essential: true}
	got, err := ix.Resolve(builderWorld, opts)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range got {
		names[p.Name] = true
		for _, rel := range append(append([]Relation{}, p.PreDepends...), p.Depends...) {
			if !satisfiedBy(rel, got) {
				t.Errorf("%s: %s is not satisfied by the selection", p, rel)
			}
		}
	}
	for _, n := range append([]string{"base-files", "bash", "coreutils", "dpkg", "tar", "gcc-12-aarch64-linux-gnu", "libssl-dev", "musl-dev"}, builderWorld...) {
		if !names[n] {
			t.Errorf("%s missing", n)
		}
	}
	t.Logf("resolved %d packages", len(got))
}

var builderWorld = []string{
	"gcc", "make", "libc6-dev", "musl-tools", "gcc-aarch64-linux-gnu", "libseccomp-dev", "pkg-config",
	"bc", "flex", "bison", "libelf-dev", "libssl-dev", "cpio", "kmod", "xz-utils", "perl",
}

func TestRealFetchDeb(t *testing.T) {
	_, _, arm := realBookworm(t)
	var deb *Package
	for _, p := range arm {
		if p.Name == "libseccomp-dev" {
			deb = p
		}
	}
	if deb == nil {
		t.Fatal("libseccomp-dev not in bookworm main arm64")
	}
	ctx := context.Background()
	path, err := realClient(t).Fetch(ctx, debianURL, deb.Filename, deb.SHA256, deb.Size)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sha(data) != deb.SHA256 || int64(len(data)) != deb.Size || !bytes.HasPrefix(data, []byte("!<arch>\ndebian-binary")) {
		t.Fatalf("%s: %d bytes, sha256 %s, want a %d-byte .deb with %s", path, len(data), sha(data), deb.Size, deb.SHA256)
	}
	// A cache hit touches no network.
	var progress bytes.Buffer
	again, err := offlineClient(t, &progress).Fetch(ctx, debianURL, deb.Filename, deb.SHA256, deb.Size)
	if err != nil || again != path {
		t.Fatalf("cached Fetch = %q, %v", again, err)
	}
}
