package debtest

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lkpkg/lkpkg/mirror/download"
)

// Mirror is where pinned paths are fetched from. Plain HTTP is enough:
// every file is checked against its pinned SHA-256.
const Mirror = "http://deb.debian.org/"

//go:embed testdata/bookworm_amd64.pins
var pinsText string

// Pin is one pinned .deb file.
type Pin struct {
	Name, Version, Arch string
	Size                int64
	SHA256              string
	Path                string // under Mirror, e.g. "debian/pool/main/d/dash/dash_0.5.12-2_amd64.deb"
}

// Pins returns every pin of testdata/bookworm_amd64.pins, sorted by name.
func Pins() []Pin {
	var pins []Pin
	sc := bufio.NewScanner(strings.NewReader(pinsText))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 6 {
			panic("debtest: bad pin line: " + sc.Text())
		}
		size, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			panic("debtest: bad pin size: " + sc.Text())
		}
		pins = append(pins, Pin{Name: f[0], Version: f[1], Arch: f[2], Size: size, SHA256: f[4], Path: f[5]})
	}
	return pins
}

// Lookup returns the pins of the named packages, in the order named.
func Lookup(tb testing.TB, names ...string) []Pin {
	tb.Helper()
	byName := map[string]Pin{}
	for _, p := range Pins() {
		byName[p.Name] = p
	}
	var out []Pin
	for _, n := range names {
		p, ok := byName[n]
		if !ok {
			tb.Fatalf("debtest: no pin for package %q (add it to update-pins.sh)", n)
		}
		out = append(out, p)
	}
	return out
}

// CacheDir is the persistent cache of fetched packages.
func CacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "lkpkg-test", "debroot"), nil
}

// Fetch returns the local paths of pins, in order, downloading the ones
// not cached yet. It skips the test under -short, which promises no
// network, and fails it when a pinned file can be neither found in the
// cache nor fetched.
func Fetch(tb testing.TB, pins ...Pin) []string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("fetches real Debian packages; skipped with -short")
	}
	dir, err := CacheDir()
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		tb.Fatalf("debtest: cache: %v", err)
	}
	paths := make([]string, len(pins))
	var g errgroup.Group
	g.SetLimit(4) // a few connections keep a cold fetch short without hammering the mirror
	for i, p := range pins {
		paths[i] = filepath.Join(dir, path.Base(p.Path))
		g.Go(func() error { return ensure(paths[i], p) })
	}
	if err := g.Wait(); err != nil {
		tb.Fatalf("debtest: %v", err)
	}
	return paths
}

// ensure makes file hold p, checked, fetching it if needed, through the
// same verified download cache as the mirror's Debian source.
func ensure(file string, p Pin) error {
	var errs []string
	for _, u := range urls(p) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		_, err := download.Fetch(ctx, download.Request{
			Path: file, Size: p.Size, SHA256: p.SHA256,
			Open: func(ctx context.Context, offset int64) (io.ReadCloser, error) { return get(ctx, u, offset) },
		})
		cancel()
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Sprintf("GET %s: %v", u, err))
	}
	return fmt.Errorf("%s %s is neither in the cache (%s) nor fetchable: %s; "+
		"if upstream superseded it, run mirror/debfile/debtest/update-pins.sh on bookworm",
		p.Name, p.Version, file, strings.Join(errs, "; "))
}

// urls lists where p may be. A security update is copied from the
// security archive's pool/updates into the main archive at the next point
// release, byte for byte, so that is the fallback.
func urls(p Pin) []string {
	out := []string{Mirror + p.Path}
	if rest, ok := strings.CutPrefix(p.Path, "debian-security/pool/updates/"); ok {
		out = append(out, Mirror+"debian/pool/"+rest)
	}
	return out
}

// get reads url whole; a resumed download starts over (ErrNoRange).
func get(ctx context.Context, url string, offset int64) (io.ReadCloser, error) {
	if offset > 0 {
		return nil, download.ErrNoRange
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s", resp.Status)
	}
	return resp.Body, nil
}

// Write builds d into dir/name and returns the file's path.
func Write(tb testing.TB, dir, name string, d Deb) string {
	tb.Helper()
	b, err := d.Build()
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}
