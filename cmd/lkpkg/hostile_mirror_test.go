package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/lkpkg/lkpkg/assemble/layer/layertest"
	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/internal/testenv"
)

// Attacks on the mirror stage: validly signed upstream files served where
// they do not belong (another release's or arch's APKINDEX, an older
// index, another package's .apk), and mirror images whose /mirror reaches
// host files. Each is refused with nothing written: the lock stays as it
// was, the host files are untouched.
func init() {
	const (
		main319 = "v3.19/main/x86_64/APKINDEX.tar.gz"
		comm319 = "v3.19/community/x86_64/APKINDEX.tar.gz"
		both319 = "v3.19/main, v3.19/community"
	)
	// A wrong index is refused whatever --allow-older-release says.
	for _, flags := range [][]string{nil, {"--allow-older-release"}} {
		registerHostile(apkHostile(strings.TrimSpace("APK index of v3.16 replayed at v3.19 "+strings.Join(flags, " ")), both319, true,
			func(t *testing.T, dir, m string) []string {
				up := linkedUpstream(t, dir, map[string]string{main319: "v3.16/main/x86_64/APKINDEX.tar.gz", comm319: comm319})
				return append(append([]string{"mirror", "lock"}, flags...), "--upstream", up, m)
			}, main319, `"v3.16.3-13-g4d933a1fa3"`, "expected a v3.19 release"))
	}
	registerHostile(apkHostile("APK index of aarch64 served at x86_64", "v3.17/main", false,
		func(t *testing.T, dir, m string) []string {
			up := linkedUpstream(t, dir, map[string]string{"v3.17/main/x86_64/APKINDEX.tar.gz": "v3.17/main/aarch64/APKINDEX.tar.gz"})
			return []string{"mirror", "lock", "--upstream", up, m}
		}, "v3.17/main (x86_64)", "packages are not for x86_64", `has arch "aarch64"`))
	registerHostile(apkHostile("APK relock to older package versions", both319, true,
		func(t *testing.T, dir, m string) []string {
			// As if the lock had been made from a newer index than the one
			// now served.
			lock := filepath.Join(m, "mirror.lock")
			b, _ := os.ReadFile(lock)
			newer := strings.Replace(string(b), "version: 1.3.1-r0", "version: 1.3.1-r9", 1)
			writeFile(t, lock, newer)
			writeFile(t, filepath.Join(dir, "lock.orig"), newer)
			return []string{"mirror", "lock", "--upstream", "file://" + testenv.AlpineDir(t), m}
		}, "zlib from 1.3.1-r9 to 1.3.1-r0", "refusing a rollback (pass --allow-older-release"))
	swapped := apkHostile("APK package swapped for another, larger one", both319, true,
		func(t *testing.T, dir, m string) []string {
			const musl = "v3.19/main/x86_64/musl-1.2.4_git20230717-r4.apk" // zlib's closure is musl and zlib
			up := linkedUpstream(t, dir, map[string]string{musl: musl, "v3.19/main/x86_64/zlib-1.3.1-r0.apk": "v3.19/main/x86_64/dhcpcd-10.0.5-r0.apk"})
			return []string{"mirror", "fetch", "--upstream", up, "--download-cache", filepath.Join(workDir, "apk"), m}
		}, "zlib-1.3.1-r0", "bytes, got 166041") // dhcpcd's real size
	swapped.maxTime, swapped.maxWritten = 5*time.Second, 1<<20 // musl (400 KiB) is fetched, not the impostor
	registerHostile(swapped)

	for i, c := range layertest.MirrorEscapes("/host") {
		want := []string{"--from-image test/tc:1 (amd64)", c.Refusal}
		if c.Refusal == "" {
			want = []string{"no lock"} // nothing taken: the fetch goes on
		}
		registerHostile(hostileInput{
			name: "mirror fetch --from-image: " + c.Name,
			setup: func(t *testing.T, dir string) []string {
				host := filepath.Join(dir, "host")
				layertest.WriteHostDir(t, host)
				store := filepath.Join(dir, "cache")
				storeMirrorImage(t, store, layertest.MirrorEscapes(host)[i].Entries)
				m := filepath.Join(dir, "m")
				writeFile(t, filepath.Join(m, "mirror.yml"), debMirrorYAML)
				return []string{"--cache", store, "mirror", "fetch", "--from-image", "test/tc:1", "--download-cache", filepath.Join(workDir, "apk"), m}
			},
			want:       want,
			maxTime:    5 * time.Second,
			maxRSS:     128 << 20,
			maxWritten: 256 << 10,
			after:      func(t *testing.T, dir string) { layertest.CheckHostDir(t, filepath.Join(dir, "host")) },
		})
	}
}

// apkHostile is a case on a mirror wanting zlib from repos (locked from
// the real upstream first if locked); args gets the mirror's directory.
// The refusal leaves the lock as it was.
func apkHostile(name, repos string, locked bool, args func(t *testing.T, dir, m string) []string, want ...string) hostileInput {
	return hostileInput{
		name: name,
		setup: func(t *testing.T, dir string) []string {
			return args(t, dir, apkMirror(t, dir, repos, "zlib", locked))
		},
		want: want,
		// Refused before any resolving: the indexes read (~90 MiB RSS for
		// main and community) and nothing written.
		maxTime:    10 * time.Second,
		maxRSS:     160 << 20,
		maxWritten: 256 << 10,
		after:      lockUnchanged,
	}
}

// apkMirror writes a mirror.yml below dir/m wanting world from repos
// (Alpine's keys, no signing key needed to lock or fetch), locked from the
// real upstream if locked. The lock's bytes are kept in dir/lock.orig.
func apkMirror(t *testing.T, dir, repos, world string, locked bool) string {
	t.Helper()
	alpine := testenv.AlpineDir(t)
	m := filepath.Join(dir, "m")
	if err := os.CopyFS(filepath.Join(m, "keys"), os.DirFS(filepath.Join(alpine, "keys"))); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(m, "mirror.yml"), "image: alpine\norg: test\nupstream: https://dl-cdn.alpinelinux.org/alpine\nrepositories: ["+repos+
		"]\nkeys: keys\narches: [x86_64]\npackages: ["+world+"]\nsigning-key: test.rsa.pub\n")
	if locked {
		// In a process of its own: the indexes parsed here would swell
		// this one, whose peak RSS a child's rusage inherits.
		cmd := exec.Command(testenv.LkpkgBinary(t), "mirror", "lock", "--upstream", "file://"+alpine, m)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mirror lock: %v\n%s", err, out)
		}
	}
	b, _ := os.ReadFile(filepath.Join(m, "mirror.lock")) // none: ""
	writeFile(t, filepath.Join(dir, "lock.orig"), string(b))
	return m
}

// lockUnchanged checks a refused lock or fetch left mirror.lock as it was
// (or absent, as it was).
func lockUnchanged(t *testing.T, dir string) {
	want, _ := os.ReadFile(filepath.Join(dir, "lock.orig"))
	got, _ := os.ReadFile(filepath.Join(dir, "m", "mirror.lock"))
	if string(got) != string(want) {
		t.Errorf("mirror.lock changed:\n%s", got)
	}
}

// linkedUpstream is a copy of the Alpine upstream (file://) holding only
// files (path there -> real file served), as symlinks to the real data.
func linkedUpstream(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	alpine := testenv.AlpineDir(t)
	up := filepath.Join(dir, "upstream")
	for rel, src := range files {
		p := filepath.Join(up, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(alpine, filepath.FromSlash(src)), p); err != nil {
			t.Fatal(err)
		}
	}
	return "file://" + up
}

// debMirrorYAML is a Debian mirror on an archive that has gone away:
// --from-image is the only source of its .debs.
const debMirrorYAML = "image: tc\ndebian:\n  sources:\n    - url: http://127.0.0.1:9/debian\n      suite: bookworm\n      components: [main]\n  keyring: keys\n  arches: [amd64]\n  packages: [hello]\n"

// storeMirrorImage stores test/tc:1 in the cache at dir: an index with one
// linux/amd64 image of one layer of entries.
func storeMirrorImage(t *testing.T, dir string, entries []layertest.Entry) {
	t.Helper()
	img, err := mutate.ConfigFile(layertest.Image(t, layertest.Tar(t, entries...)), &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	store, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.WriteIndex(context.Background(), "test/tc:1", idx); err != nil {
		t.Fatal(err)
	}
}
