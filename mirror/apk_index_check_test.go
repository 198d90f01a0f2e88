package mirror

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/mirror/apk"
)

func TestCheckIndex(t *testing.T) {
	x86 := []apk.Package{{Name: "musl", Version: "1.2.4_git20230717-r4", Arch: "x86_64"}}
	for _, c := range []struct {
		name, repo, desc string
		pkgs             []apk.Package
		want             string // "" = accepted
	}{
		{"release index", "v3.19/main", "v3.19.1-643-gec825d20535", x86, ""},
		{"release ISO index", "v3.19/main", "3.19.1", x86, ""},
		{"branch index before the first point release", "v3.19/main", "v3.19.0", x86, ""},
		{"no release in the path", "edge/main", "v20240612-1-gabc", x86, ""},
		{"older release replayed", "v3.19/main", "v3.16.3-13-g4d933a1fa3", x86, `DESCRIPTION is "v3.16.3-13-g4d933a1fa3", expected a v3.19 release`},
		{"newer release", "v3.19/community", "v3.20.0-1-gabc", x86, "v3.19/community (x86_64)"},
		{"release prefix only", "v3.1/main", "v3.19.1-643-gec825d20535", x86, "expected a v3.1 release"},
		{"no description", "v3.19/main", "", x86, `DESCRIPTION is ""`},
		{"another arch", "v3.17/main", "v3.17.3-216-g54a39ace82a",
			[]apk.Package{{Name: "musl", Version: "1.2.3-r5", Arch: "aarch64"}}, `musl-1.2.3-r5 has arch "aarch64"`},
		{"one package of another arch", "v3.19/main", "v3.19.1",
			append(append([]apk.Package(nil), x86...), apk.Package{Name: "zlib", Version: "1.3.1-r0", Arch: "aarch64"}), "1 of 2 packages are not for x86_64"},
		{"no arch", "v3.19/main", "v3.19.1", []apk.Package{{Name: "zlib", Version: "1.3.1-r0"}}, `zlib-1.3.1-r0 has arch ""`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkIndex(c.repo, "x86_64", c.desc, c.pkgs)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, c.want)
		})
	}
}

// replayUpstream is a copy of the upstream holding only the indexes
// (rel path in the upstream -> file of the real data to serve there).
func replayUpstream(t *testing.T, alpine string, indexes map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, src := range indexes {
		b, err := os.ReadFile(filepath.Join(alpine, src))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return serve(t, dir)
}

// Validly signed real indexes served at the wrong path: another
// release's at v3.19 (over an existing v3.19 lock), another arch's at
// x86_64. Each is refused naming the repository, and the lock stays as it
// was.
func TestLockRefusesMisplacedIndex(t *testing.T) {
	const (
		main319   = "v3.19/main/x86_64/APKINDEX.tar.gz"
		comm319   = "v3.19/community/x86_64/APKINDEX.tar.gz"
		main316   = "v3.16/main/x86_64/APKINDEX.tar.gz"
		arm317    = "v3.17/main/aarch64/APKINDEX.tar.gz"
		x86At317  = "v3.17/main/x86_64/APKINDEX.tar.gz"
		repos317  = "repositories: [v3.17/main]"
		repos3119 = "repositories: [v3.19/main, v3.19/community]"
	)
	for _, c := range []struct {
		name   string
		repos  string            // mirror.yml's repositories line
		locked bool              // lock from the real upstream first
		served map[string]string // upstream path -> real index
		allow  bool              // --allow-older-release
		want   []string
	}{
		{"v3.16 index at v3.19", repos3119, true, map[string]string{main319: main316, comm319: comm319}, false,
			[]string{"v3.19/main/x86_64/APKINDEX.tar.gz", `"v3.16.3-13-g4d933a1fa3"`, "expected a v3.19 release"}},
		{"v3.16 index at v3.19, older release allowed", repos3119, true, map[string]string{main319: main316, comm319: comm319}, true,
			[]string{"expected a v3.19 release"}},
		{"aarch64 index at x86_64", repos317, false, map[string]string{x86At317: arm317}, false,
			[]string{"v3.17/main (x86_64)", "5004 of 5004 packages are not for x86_64", `has arch "aarch64"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, []string{"zlib"}, false)
			yml, _ := os.ReadFile(filepath.Join(f.dir, "mirror.yml"))
			os.WriteFile(filepath.Join(f.dir, "mirror.yml"), []byte(strings.Replace(string(yml), repos3119, c.repos, 1)), 0o644)
			cfg := f.config(t)
			if c.locked {
				f.lock(t)
			}
			before, _ := os.ReadFile(cfg.LockFile())
			f.opts.APKUpstream = replayUpstream(t, f.alpine, c.served)
			f.opts.AllowOlderRelease = c.allow
			_, err := LockAndWrite(context.Background(), cfg, f.opts)
			for _, w := range c.want {
				wantErr(t, err, w)
			}
			if after, _ := os.ReadFile(cfg.LockFile()); string(after) != string(before) {
				t.Errorf("the lock changed:\n%s", after)
			}
		})
	}
}

// Locking again refuses to pin a package at an older version than the
// current lock (an older index of the same release, replayed), unless
// told to accept it.
func TestAPKLockRefusesAnOlderVersion(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, []string{"zlib"}, false)
	c, _ := f.lock(t)
	real, _ := os.ReadFile(c.LockFile())
	// Pretend the lock was made from a newer index.
	future := strings.Replace(string(real), "version: 1.3.1-r0", "version: 1.3.1-r9", 1)
	if future == string(real) {
		t.Fatalf("zlib 1.3.1-r0 not in the lock:\n%s", real)
	}
	os.WriteFile(c.LockFile(), []byte(future), 0o644)
	_, err := LockAndWrite(ctx, c, f.opts)
	for _, w := range []string{"x86_64: 1 packages would move to an older version", "zlib from 1.3.1-r9 to 1.3.1-r0 (v3.19/main)", "refusing a rollback (pass --allow-older-release"} {
		wantErr(t, err, w)
	}
	if got, _ := os.ReadFile(c.LockFile()); string(got) != future {
		t.Fatal("the refused lock was written")
	}
	o := f.opts
	o.AllowOlderRelease = true
	if _, err := LockAndWrite(ctx, c, o); err != nil {
		t.Fatalf("with AllowOlderRelease: %v", err)
	}
	// The lock is the upstream's own again: a plain relock accepts it.
	if _, err := LockAndWrite(ctx, c, f.opts); err != nil {
		t.Fatalf("relock: %v", err)
	}
	if got, _ := os.ReadFile(c.LockFile()); string(got) != string(real) {
		t.Fatal("relock differs from the first lock")
	}
}
