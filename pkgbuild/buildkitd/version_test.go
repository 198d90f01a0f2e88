package buildkitd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// goModBuildkitVersion reads the buildkit version that the repository's
// go.mod (two levels up since the move to pkgbuild/buildkitd) requires.
func goModBuildkitVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == buildkitModule {
			return f[1]
		}
	}
	t.Fatalf("go.mod does not require %s", buildkitModule)
	return ""
}

func TestPinnedVersion(t *testing.T) {
	want := goModBuildkitVersion(t)
	if got := PinnedVersion(); got != want {
		t.Fatalf("PinnedVersion() = %q, want go.mod's %q", got, want)
	}
}

func TestPinnedVersionSources(t *testing.T) {
	bi := &debug.BuildInfo{Deps: []*debug.Module{
		{Path: "github.com/moby/buildkit-other", Version: "v9.9.9"},
		{Path: buildkitModule, Version: "v0.33.1"},
	}}
	if got := pinnedFromBuildInfo(bi); got != "v0.33.1" {
		t.Errorf("pinnedFromBuildInfo = %q", got)
	}
	bi.Deps[1].Replace = &debug.Module{Path: "example.com/fork", Version: "v0.33.2-fork"}
	if got := pinnedFromBuildInfo(bi); got != "v0.33.2-fork" {
		t.Errorf("pinnedFromBuildInfo with a replacement = %q", got)
	}
	bi.Deps[1].Replace = &debug.Module{Path: "../buildkit"}
	if got := pinnedFromBuildInfo(bi); got != "" {
		t.Errorf("pinnedFromBuildInfo with a directory replacement = %q", got)
	}
	if got := pinnedFromBuildInfo(&debug.BuildInfo{}); got != "" {
		t.Errorf("pinnedFromBuildInfo without deps = %q", got)
	}

	for file, want := range map[string]string{
		"/root/go/pkg/mod/github.com/moby/buildkit@v0.33.1/client/client.go":  "v0.33.1",
		"github.com/moby/buildkit@v0.34.0-rc1/client/client.go":               "v0.34.0-rc1",
		"/src/vendor/github.com/moby/buildkit/client/client.go":               "",
		"/root/go/pkg/mod/github.com/moby/buildkit-x@v1.0.0/client/client.go": "",
		"": "",
	} {
		if got := pinnedFromSourcePath(file); got != want {
			t.Errorf("pinnedFromSourcePath(%q) = %q, want %q", file, got, want)
		}
	}
}

func TestVersionError(t *testing.T) {
	const hint = "rebuild bin/buildkitd with `make`, or pass --allow-builder-version-mismatch"
	tests := []struct {
		got, pinned string
		want        []string // substrings; nil = no error
	}{
		{got: "v0.33.1", pinned: "v0.33.1"},
		{got: "v0.20.0", pinned: "v0.33.1", want: []string{"v0.20.0", "v0.33.1", "digest", hint}},
		{got: "v0.0.0+unknown", pinned: "v0.33.1", want: []string{
			"v0.0.0+unknown", "v0.33.1",
			`-ldflags "-X github.com/moby/buildkit/version.Version=v0.33.1"`, hint}},
		{got: "", pinned: "v0.33.1", want: []string{`""`, "-ldflags", hint}},
		{got: "v0.33.1", pinned: "", want: []string{"does not record", hint}},
	}
	for _, tt := range tests {
		err := versionError(tt.got, tt.pinned)
		if tt.want == nil {
			if err != nil {
				t.Errorf("versionError(%q, %q) = %v, want nil", tt.got, tt.pinned, err)
			}
			continue
		}
		if !errors.Is(err, ErrVersionMismatch) {
			t.Errorf("versionError(%q, %q) = %v, want ErrVersionMismatch", tt.got, tt.pinned, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("versionError(%q, %q) does not mention %q: %v", tt.got, tt.pinned, w, err)
			}
		}
	}
}

var (
	unversionedOnce sync.Once
	unversionedBin  string
	unversionedErr  error
)

// unversionedBuildkitd builds buildkitd from the pinned module without the
// Makefile's -X .../version.Version ldflag, as a hand-made `go build`
// would. -trimpath matches the Makefile so the compile is cached.
func unversionedBuildkitd(t *testing.T) string {
	t.Helper()
	unversionedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lkpkg-bkd")
		if err != nil {
			unversionedErr = err
			return
		}
		unversionedBin = filepath.Join(dir, "buildkitd")
		cmd := exec.Command("go", "build", "-trimpath", "-o", unversionedBin, buildkitModule+"/cmd/buildkitd")
		if out, err := cmd.CombinedOutput(); err != nil {
			unversionedErr = errors.New(err.Error() + ": " + string(out))
		}
	})
	if unversionedErr != nil {
		t.Fatalf("building buildkitd without the version ldflag: %v", unversionedErr)
	}
	return unversionedBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if unversionedBin != "" {
		os.RemoveAll(filepath.Dir(unversionedBin))
	}
	os.Exit(code)
}

// TestEnsureChecksVersion starts a buildkitd that does not report the
// pinned version, and checks that Ensure refuses it both when it starts it
// and when it finds it already running.
func TestEnsureChecksVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds buildkitd and starts it (the good binary is covered by TestLocalIntegration)")
	}
	good := testBinary(t)
	start := time.Now()
	bad := unversionedBuildkitd(t)
	t.Logf("built buildkitd without the version ldflag in %s", time.Since(start))
	dir := tempStateDir(t)
	ctx := context.Background()
	pinned := PinnedVersion()

	l := &Daemon{StateDir: dir, Binary: bad}
	_, err := l.Ensure(ctx)
	if !errors.Is(err, ErrVersionMismatch) {
		t.Fatalf("Ensure with an unversioned buildkitd: err = %v, want ErrVersionMismatch", err)
	}
	for _, want := range []string{"v0.0.0+unknown", pinned, "-X github.com/moby/buildkit/version.Version=" + pinned,
		"`make`", "--allow-builder-version-mismatch"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
	t.Logf("%v", err)
	if got := daemonsServing(t, l.sockPath()); len(got) != 0 {
		t.Fatalf("the refused daemon was left running: %v", got)
	}
	if _, release, err := l.Acquire(ctx); !errors.Is(err, ErrVersionMismatch) {
		release()
		t.Fatalf("Acquire with an unversioned buildkitd: err = %v, want ErrVersionMismatch", err)
	}

	// Allowed: it runs, with a warning.
	var log bytes.Buffer
	allowed := &Daemon{StateDir: dir, Binary: bad, Log: &log, AllowVersionMismatch: true}
	addr, err := allowed.Ensure(ctx)
	if err != nil {
		t.Fatalf("Ensure with AllowVersionMismatch: %v", err)
	}
	if !strings.Contains(log.String(), "warning:") || !strings.Contains(log.String(), "v0.0.0+unknown") {
		t.Errorf("no mismatch warning in the log: %q", log.String())
	}

	// CheckVersion, as used for remote builders, reports the version too.
	c, err := Connect(ctx, addr, TLS{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := CheckVersion(ctx, c)
	c.Close()
	if v != "v0.0.0+unknown" || !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("CheckVersion = %q, %v; want v0.0.0+unknown, ErrVersionMismatch", v, err)
	}

	// Reused: the good binary does not help while the bad daemon runs.
	l = &Daemon{StateDir: dir, Binary: good}
	_, err = l.Ensure(ctx)
	if !errors.Is(err, ErrVersionMismatch) || !strings.Contains(err.Error(), "lkpkg builder stop") {
		t.Fatalf("Ensure reusing an unversioned daemon: err = %v, want ErrVersionMismatch naming `lkpkg builder stop`", err)
	}
	if len(daemonsServing(t, l.sockPath())) != 1 {
		t.Fatal("Ensure must not stop a daemon it did not start")
	}
	if was, err := l.Stop(ctx, StopOptions{}); err != nil || !was {
		t.Fatalf("Stop = %v, %v", was, err)
	}
	if _, err := l.Ensure(ctx); err != nil {
		t.Fatalf("Ensure with the good binary after Stop: %v", err)
	}
	c, err = Connect(ctx, l.Address(), TLS{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := CheckVersion(ctx, c); err != nil || v != pinned {
		t.Fatalf("CheckVersion = %q, %v; want %q, nil", v, err, pinned)
	}
}
