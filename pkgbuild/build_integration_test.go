package pkgbuild

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/internal/testenv"
	"github.com/lkpkg/lkpkg/manifest"
	"github.com/lkpkg/lkpkg/runconfig"
)

// alpinePackage writes a package built from the real Alpine minirootfs
// (an extra source, not a pull) with a RUN step on each target.
func alpinePackage(t *testing.T, dir, name string, arches []string, run string, extra string) string {
	t.Helper()
	alpine := testenv.AlpineDir(t)
	pkg := filepath.Join(dir, name)
	yml := fmt.Sprintf("image: %s\norg: test\narches: [%s]\nextra-sources: [%q]\n%s", name, strings.Join(arches, ", "), filepath.Join(alpine, "minirootfs")+":minirootfs", extra)
	write(t, filepath.Join(pkg, "build.yml"), yml, 0o644)
	write(t, filepath.Join(pkg, "Dockerfile"), `FROM scratch AS rootfs-amd64
ADD minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz /
FROM scratch AS rootfs-arm64
ADD minirootfs/alpine-minirootfs-3.19.4-aarch64.tar.gz /
FROM rootfs-${TARGETARCH}
RUN `+run+"\n", 0o644)
	return pkg
}

type buildEnv struct {
	cache *cache.Cache
	b     *Scheduler
}

func newBuildEnv(t *testing.T, local *Daemons) *buildEnv {
	t.Helper()
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	return &buildEnv{cache: c, b: &Scheduler{Cache: c, Daemons: local, Opts: Options{Progress: "quiet"}}}
}

func (e *buildEnv) load(t *testing.T, dirs ...string) []*Package {
	t.Helper()
	pkgs, err := NewLoader(LoadOptions{Cache: e.cache}).Load(dirs...)
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// amd64File is the content of file name in the linux/amd64 image of ref
// in the cache.
func (e *buildEnv) amd64File(t *testing.T, ref, name string) string {
	t.Helper()
	img, err := e.cache.Image(ref, v1.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	return fileInImage(t, img, name)
}

func localDaemons(t *testing.T) *Daemons {
	bs := &Daemons{Local: testenv.Buildkitd(t)}
	t.Cleanup(bs.Close)
	return bs
}

// fileInImage returns the content of path in img's flattened filesystem.
func fileInImage(t *testing.T, img v1.Image, path string) string {
	t.Helper()
	content, found := testenv.ImageFile(t, img, path)
	if !found {
		t.Fatalf("%s not in image", path)
	}
	return content
}

func TestBuildMultiArchFromAlpineMinirootfs(t *testing.T) {
	testenv.Integration(t)
	bs := localDaemons(t)
	e := newBuildEnv(t, bs)
	dir := t.TempDir()
	pkg := alpinePackage(t, dir, "base", []string{"amd64", "arm64"}, "uname -m > /etc/arch && cat /etc/alpine-release > /etc/release",
		"config:\n  capabilities: [CAP_NET_ADMIN]\n  binds: [\"/var/run:/var/run\"]\n")
	p := e.load(t, pkg)[0]
	res, err := e.b.Build(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped || len(res.Platforms) != 2 {
		t.Fatalf("result %+v, want a build of 2 platforms", res)
	}
	want := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
	for arch, uname := range want {
		img, err := e.cache.Image(p.Ref(), v1.Platform{OS: "linux", Architecture: arch})
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != arch {
			t.Errorf("%s image config says architecture %q", arch, cf.Architecture)
		}
		if got := strings.TrimSpace(fileInImage(t, img, "etc/arch")); got != uname {
			t.Errorf("RUN on %s saw uname -m %q, want %q", arch, got, uname)
		}
		if got := strings.TrimSpace(fileInImage(t, img, "etc/release")); got != "3.19.4" {
			t.Errorf("%s: alpine-release %q", arch, got)
		}
		label := cf.Config.Labels[runconfig.Label]
		if !strings.Contains(label, `"capabilities":["CAP_NET_ADMIN"]`) || !strings.Contains(label, `"binds":["/var/run:/var/run"]`) {
			t.Errorf("%s: %s label = %q", arch, runconfig.Label, label)
		}
		if !cf.Created.Time.Equal(cf.Created.Time.UTC()) || cf.Created.Unix() != DefaultSourceDateEpoch {
			t.Errorf("%s: created %v, want SOURCE_DATE_EPOCH %d", arch, cf.Created, DefaultSourceDateEpoch)
		}
	}
	// Built again: nothing to do.
	again, err := e.b.Build(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Skipped || again.Digest != res.Digest {
		t.Fatalf("second build %+v, want skipped with digest %s", again, res.Digest)
	}
	if err := e.b.VerifyReproducible(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

func TestTwoCleanBuildsGiveIdenticalDigests(t *testing.T) {
	testenv.Integration(t)
	dir := t.TempDir()
	pkg := alpinePackage(t, dir, "repro", []string{"amd64", "arm64"}, "touch /new-file && mkdir -p /var/x && echo hi > /var/x/y && adduser -D builder && apk --version > /apkver", "")
	var digests []v1.Hash
	var manifests [][]string
	for i := 0; i < 2; i++ {
		// A fresh buildkitd and a fresh cache each time: nothing shared.
		e := newBuildEnv(t, localDaemons(t))
		e.b.Opts.NoCache = true
		p := e.load(t, pkg)[0]
		res, err := e.b.Build(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, res.Digest)
		idx, err := e.cache.ImageIndex(p.Ref())
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := manifest.Images(idx)
		if err != nil {
			t.Fatal(err)
		}
		var ds []string
		for _, pi := range imgs {
			d, _ := pi.Image.Digest()
			ds = append(ds, pi.Platform.String()+"="+d.String())
		}
		manifests = append(manifests, ds)
	}
	if digests[0] != digests[1] {
		t.Fatalf("two clean builds gave index digests %s and %s\nmanifests: %v vs %v", digests[0], digests[1], manifests[0], manifests[1])
	}
	t.Logf("both clean builds: %s %v", digests[0], manifests[0])
}

func TestNetworkIsOffUnlessAsked(t *testing.T) {
	testenv.Integration(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "reached\n") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String() + "/"

	bs := localDaemons(t)
	dir := t.TempDir()
	off := alpinePackage(t, dir, "net-off", []string{"amd64"}, "wget -T 5 -q -O /page "+url, "")
	on := alpinePackage(t, dir, "net-on", []string{"amd64"}, "wget -T 5 -q -O /page "+url, "network: true\n")

	e := newBuildEnv(t, bs)
	_, err = e.b.Build(context.Background(), e.load(t, off)[0])
	if err == nil {
		t.Fatal("wget succeeded in a build with network: false")
	}
	if !strings.Contains(err.Error(), "wget") {
		t.Errorf("error does not show the failing RUN: %v", err)
	}
	if entries, _ := e.cache.List(); len(entries) != 0 {
		t.Errorf("failed build wrote to the cache: %v", entries)
	}
	// The same download works when the package asks for network, so the
	// failure above is the network being off, not a broken test.
	p := e.load(t, on)[0]
	if _, err := e.b.Build(context.Background(), p); err != nil {
		t.Fatalf("network: true build failed: %v", err)
	}
	if got := e.amd64File(t, p.Ref(), "page"); got != "reached\n" {
		t.Fatalf("downloaded %q", got)
	}
}

func TestBuildAllOrderAndFailureIsolation(t *testing.T) {
	testenv.Integration(t)
	dir := t.TempDir()
	scratch := func(name, from, extra string) string {
		p := filepath.Join(dir, name)
		write(t, filepath.Join(p, "build.yml"), "image: "+name+"\norg: test\narches: [amd64]\n"+extra, 0o644)
		write(t, filepath.Join(p, "file"), name+"\n", 0o644)
		write(t, filepath.Join(p, "Dockerfile"), "ARG BASE=scratch\nFROM ${BASE}\nCOPY file /"+name+"\n"+from, 0o644)
		return p
	}
	base := scratch("base", "", "")
	child := scratch("child", "", "buildArgs: [\"BASE=@lkt:pkg:../base\"]\n")
	broken := scratch("broken", "COPY does-not-exist /x\n", "")
	victim := scratch("victim", "", "buildArgs: [\"BASE=@lkt:pkg:../broken\"]\n")
	other := scratch("other", "", "")
	_, _ = base, broken

	e := newBuildEnv(t, localDaemons(t))
	pkgs := e.load(t, child, victim, other) // base and broken come in as dependencies
	var order []string
	outcomes := e.b.BuildAll(context.Background(), pkgs, 2, func(o Outcome) { order = append(order, o.Pkg.Image) })
	byName := map[string]Outcome{}
	for _, o := range outcomes {
		byName[o.Pkg.Image] = o
	}
	if len(byName) != 5 {
		t.Fatalf("outcomes for %v, want 5 packages", order)
	}
	for _, ok := range []string{"base", "child", "other"} {
		if byName[ok].Err != nil {
			t.Errorf("%s failed: %v", ok, byName[ok].Err)
		}
	}
	if byName["broken"].Err == nil || !strings.Contains(byName["broken"].Err.Error(), "does-not-exist") {
		t.Errorf("broken: %v", byName["broken"].Err)
	}
	if err := byName["victim"].Err; err == nil || !strings.Contains(err.Error(), "dependency test/broken failed") {
		t.Errorf("victim: %v", err)
	}
	pos := func(n string) int {
		for i, x := range order {
			if x == n {
				return i
			}
		}
		return -1
	}
	if pos("base") > pos("child") {
		t.Errorf("child finished before its base: %v", order)
	}
	if got := e.amd64File(t, byName["child"].Pkg.Ref(), "base"); got != "base\n" {
		t.Errorf("child image lacks its base's file: %q", got)
	}
}

func TestDependsDockerImagesComeFromTheCache(t *testing.T) {
	testenv.Integration(t)
	dir := t.TempDir()
	e := newBuildEnv(t, localDaemons(t))
	a := filepath.Join(dir, "a")
	write(t, filepath.Join(a, "build.yml"), "image: a\norg: test\narches: [amd64, arm64]\n", 0o644)
	write(t, filepath.Join(a, "Dockerfile"), "FROM scratch\nARG TARGETARCH\nCOPY build.yml /a-${TARGETARCH}\n", 0o644)
	pa := e.load(t, a)[0]
	ra, err := e.b.Build(context.Background(), pa)
	if err != nil {
		t.Fatal(err)
	}

	b := filepath.Join(dir, "b")
	write(t, filepath.Join(b, "build.yml"), fmt.Sprintf("image: b\norg: test\narches: [amd64, arm64]\ndepends:\n  docker-images:\n    target: images/deps.tar\n    list: [\"test/a@%s\"]\n", ra.Digest), 0o644)
	write(t, filepath.Join(b, "Dockerfile"), "FROM scratch\nCOPY images/deps.tar /deps.tar\n", 0o644)
	pb := e.load(t, b)[0]
	if _, err := e.b.Build(context.Background(), pb); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := e.cache.Image(pb.Ref(), v1.Platform{OS: "linux", Architecture: arch})
		if err != nil {
			t.Fatal(err)
		}
		saved := fileInImage(t, img, "deps.tar")
		// The saved tar holds test/a's image for this arch (a docker-archive
		// with manifest.json and a layer carrying /a-ARCH).
		tr := tar.NewReader(strings.NewReader(saved))
		var names []string
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			names = append(names, h.Name)
		}
		if !strings.Contains(strings.Join(names, " "), "manifest.json") {
			t.Fatalf("%s: deps.tar is not a docker archive: %v", arch, names)
		}
		want, _ := e.cache.Image(pa.Ref(), v1.Platform{OS: "linux", Architecture: arch})
		cfg, _ := want.ConfigName()
		if !strings.Contains(strings.Join(names, " "), cfg.Hex) {
			t.Errorf("%s: deps.tar lacks test/a's %s config %s: %v", arch, arch, cfg, names)
		}
	}

	// An unpinned depends image is refused when loading.
	write(t, filepath.Join(b, "build.yml"), "image: b\ndepends:\n  docker-images:\n    target: x.tar\n    list: [\"test/a:latest\"]\n", 0o644)
	if _, err := NewLoader(LoadOptions{Cache: e.cache}).Load(b); err == nil || !strings.Contains(err.Error(), "pinned by digest") {
		t.Fatalf("unpinned depends image: %v", err)
	}
}
