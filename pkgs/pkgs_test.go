// Package pkgs holds this project's packages; its tests build them for
// real (a private buildkitd, the real Alpine data as the upstream) and
// check what is inside.
package pkgs

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/internal/testenv"
	"github.com/lkpkg/lkpkg/mirror"
	"github.com/lkpkg/lkpkg/runconfig"
)

func upstream(t *testing.T) string { return "file://" + testenv.AlpineDir(t) }

// The committed mirror.lock is what locking pkgs/alpine gives today.
func TestCommittedMirrorLockIsCurrent(t *testing.T) {
	c, err := mirror.Load("alpine")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mirror.ReadLock(c.LockFile(), c); err != nil {
		t.Fatal(err)
	}
	up, err := mirror.NewUpstream(c, upstream(t))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := c.TrustedKeys()
	if err != nil {
		t.Fatal(err)
	}
	lock, err := mirror.ResolveLock(context.Background(), c, up, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := lock.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	committed, _ := os.ReadFile(c.LockFile())
	if string(fresh) != string(committed) {
		t.Fatalf("pkgs/alpine/mirror.lock is stale: run `lkpkg mirror lock --upstream %s pkgs/alpine`", upstream(t))
	}
}

// lkpkg runs the CLI with a private cache and builder.
type lkpkg struct {
	bin, cache, state string
}

// privateLkpkg is an lkpkg with a cache and a builder of its own, stopped
// when the test ends.
func privateLkpkg(t *testing.T) lkpkg {
	t.Helper()
	state, err := os.MkdirTemp("", "lkp")
	if err != nil {
		t.Fatal(err)
	}
	l := lkpkg{bin: testenv.LkpkgBinary(t), cache: t.TempDir(), state: state}
	t.Cleanup(func() { l.run(t, "builder", "stop"); os.RemoveAll(state) })
	return l
}

// command is lkpkg args with l's cache and builder and the real Alpine
// data as the upstream.
func (l lkpkg) command(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(l.bin, args...)
	cmd.Env = append(os.Environ(), "LKPKG_CACHE="+l.cache, "LKPKG_BUILDER_DIR="+l.state,
		"LKPKG_BUILDKITD="+testenv.BuildkitdBinary(t), "LKPKG_APK_UPSTREAM="+upstream(t), "LKPKG_APK_CACHE="+filepath.Join(l.cache, "apk"))
	return cmd
}

func (l lkpkg) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := l.command(t, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("lkpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// image is the cached linux/arch image of the package in dir.
func (l lkpkg) image(t *testing.T, dir, arch string) v1.Image {
	t.Helper()
	c, err := cache.Open(l.cache)
	if err != nil {
		t.Fatal(err)
	}
	img, err := c.Image(strings.TrimSpace(l.run(t, "pkg", "show-tag", dir)), v1.Platform{OS: "linux", Architecture: arch})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func listFiles(t *testing.T, img v1.Image) []string {
	var out []string
	testenv.EachFile(t, img, func(h *tar.Header, _ io.Reader) {
		if h.Typeflag != tar.TypeDir {
			out = append(out, strings.TrimPrefix(h.Name, "/"))
		}
	})
	return out
}

func readFile(t *testing.T, img v1.Image, name string) string {
	content, _ := testenv.ImageFile(t, img, name)
	return content
}

func TestBuildProjectPackages(t *testing.T) {
	testenv.Integration(t)
	l := privateLkpkg(t)

	l.run(t, "pkg", "build", "--progress", "plain", "alpine", "ca-certificates", "dhcpcd")

	t.Run("ca-certificates holds only the bundle", func(t *testing.T) {
		img := l.image(t, "ca-certificates", "amd64")
		files := listFiles(t, img)
		if len(files) != 1 || files[0] != "etc/ssl/certs/ca-certificates.crt" {
			t.Fatalf("files %v", files)
		}
		if crt := readFile(t, img, "etc/ssl/certs/ca-certificates.crt"); !strings.Contains(crt, "BEGIN CERTIFICATE") || len(crt) < 100000 {
			t.Fatalf("ca-certificates.crt is %d bytes", len(crt))
		}
	})
	t.Run("dhcpcd with musl, busybox, its config label and apk database", func(t *testing.T) {
		img := l.image(t, "dhcpcd", "amd64")
		files := strings.Join(listFiles(t, img), "\n")
		for _, want := range []string{"sbin/dhcpcd", "bin/busybox", "lib/ld-musl-x86_64.so.1", "dhcpcd.conf", "lib/apk/db/installed"} {
			if !strings.Contains(files, want) {
				t.Errorf("%s missing", want)
			}
		}
		if strings.Contains(files, "sbin/apk") || strings.Contains(files, "mirror/") {
			t.Errorf("the package manager or the mirror leaked into the image")
		}
		db := readFile(t, img, "lib/apk/db/installed")
		for _, p := range []string{"P:dhcpcd", "P:busybox", "P:musl"} {
			if !strings.Contains(db, p+"\n") {
				t.Errorf("apk database lacks %s", p)
			}
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		label := cf.Config.Labels[runconfig.Label]
		for _, want := range []string{`"CAP_NET_ADMIN"`, `"net":"host"`, `"/var/lib/dhcpcd:/var/lib/dhcpcd"`} {
			if !strings.Contains(label, want) {
				t.Errorf("config label lacks %s: %s", want, label)
			}
		}
	})
	t.Run("mirror rebuilds bit for bit", func(t *testing.T) {
		l.run(t, "pkg", "build", "--verify-reproducible", "--progress", "quiet", "alpine", "ca-certificates", "dhcpcd")
	})
}

// Signature checks are on inside builds: without the mirror's key, apk
// refuses the mirror's index and the package cannot be installed.
func TestMirrorIndexSignatureIsChecked(t *testing.T) {
	testenv.Integration(t)
	l := privateLkpkg(t)
	alpine, _ := filepath.Abs("alpine")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "build.yml"), []byte("image: nokey\norg: test\narches: [amd64]\nbuildArgs: [\"MIRROR=@lkt:pkg:"+alpine+"\"]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("ARG MIRROR\nFROM ${MIRROR}\nRUN rm /etc/apk/keys/lkpkg-dev-*.rsa.pub && apk add --no-network --no-cache dhcpcd\n"), 0o644)
	out, err := l.command(t, "pkg", "build", "--progress", "plain", dir).CombinedOutput()
	if err == nil {
		t.Fatalf("apk installed from the mirror without its key:\n%s", out)
	}
	if !strings.Contains(string(out), "UNTRUSTED") {
		t.Fatalf("expected apk to report an UNTRUSTED signature:\n%s", out)
	}
}
