package assemble

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
	"github.com/lkpkg/lkpkg/assemble/layer/layertest"
	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/runconfig"
)

var asmAmd64 = v1.Platform{OS: "linux", Architecture: "amd64"}

// asmImage is a one-layer linux/amd64 image with an optional
// org.mobyproject.config label.
func asmImage(t testing.TB, label string, entries ...layertest.Entry) v1.Image {
	t.Helper()
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img := must(mutate.AppendLayers(base, layertest.Layer(t, layertest.Tar(t, entries...))))(t)
	return withConfig(t, img, func(cf *v1.ConfigFile) {
		cf.OS, cf.Architecture = "linux", "amd64"
		cf.Config.Env = []string{"PATH=/bin"}
		cf.Config.Entrypoint = []string{"/bin/default"}
		if label != "" {
			cf.Config.Labels = map[string]string{runconfig.Label: label}
		}
	})
}

func asmIndex(t testing.TB, img v1.Image) v1.ImageIndex {
	t.Helper()
	p := asmAmd64
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
}

func asmDigest(t testing.TB, x interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	return must(x.Digest())(t)
}

// asmImages are the test's kernel, init and service images.
type asmImages struct {
	kernel, init, svc v1.ImageIndex
}

func asmKernelTar(t testing.TB) string {
	return string(layertest.Tar(t,
		layertest.Dir("lib/"), layertest.Dir("lib/modules/"),
		layertest.File("lib/modules/6.6/modules.dep", "mod.ko:\n")))
}

// asmCache is a new cache holding asmMakeImages(t, "v1") under prefix.
func asmCache(t testing.TB, prefix string) (*cache.Cache, asmImages) {
	t.Helper()
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	imgs := asmMakeImages(t, "v1")
	asmStore(t, c, prefix, imgs)
	return c, imgs
}

func asmMakeImages(t testing.TB, svcVersion string) asmImages {
	t.Helper()
	return asmImages{
		kernel: asmIndex(t, asmImage(t, "",
			layertest.File("kernel", "KERNEL-BYTES"),
			layertest.File("kernel.tar", asmKernelTar(t)))),
		init: asmIndex(t, asmImage(t, "",
			layertest.Dir("bin/"), layertest.File("bin/init", "#!init"),
			layertest.Dir("etc/"), layertest.File("etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1001::/home/alice:/bin/sh\n"),
			layertest.File("etc/group", "root:x:0:\nstaff:x:50:\n"))),
		svc: asmIndex(t, asmImage(t, `{"binds":["/dev:/dev"],"capabilities":["CAP_NET_ADMIN"],"command":["/bin/svc","-f"]}`,
			layertest.Dir("bin/"), layertest.File("bin/svc", "svc "+svcVersion),
			layertest.Dir("etc/"), layertest.File("etc/passwd", "root:x:0:0::/root:/bin/sh\nsvcuser:x:77:78::/:/bin/false\n"))),
	}
}

func asmStore(t testing.TB, c *cache.Cache, prefix string, im asmImages) {
	t.Helper()
	ctx := context.Background()
	for ref, idx := range map[string]v1.ImageIndex{"kernel:v1": im.kernel, "init:v1": im.init, "svc:v1": im.svc} {
		if _, err := c.WriteIndex(ctx, prefix+ref, idx); err != nil {
			t.Fatal(err)
		}
	}
}

func asmYAML(prefix, extra string) string {
	return `kernel:
  image: ` + prefix + `kernel:v1
  cmdline: "console=ttyS0 quiet"
init:
  - ` + prefix + `init:v1
onboot:
  - name: sysctl
    image: ` + prefix + `svc:v1
    command: ["/bin/svc", "once"]
services:
  - name: getty
    image: ` + prefix + `svc:v1
    binds.add: ["/var/log:/var/log"]
    uid: svcuser
files:
  - path: etc/motd
    contents: "hello\n"
    mode: "0644"
  - path: /etc/src.txt
    source: src.txt
  - path: etc/linuxkit.yml
    metadata: yaml
  - path: etc/owned
    contents: x
    uid: alice
    gid: staff
  - path: var/lib/d
    directory: true
  - path: etc/link
    symlink: /etc/motd
` + extra
}

// asmSetup writes the YAML (and src.txt) into a temp dir and returns the
// YAML path and an empty output directory.
func asmSetup(t testing.TB, yml string) (yamlPath, out string) {
	t.Helper()
	dir := t.TempDir()
	yamlPath = filepath.Join(dir, "image.yml")
	if err := os.WriteFile(yamlPath, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src.txt"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return yamlPath, out
}

type asmEntry struct {
	hdr  *tar.Header
	body string
}

// asmReadTar returns the last entry of every name (as unpacking would).
func asmReadTar(t testing.TB, path string) (map[string]asmEntry, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]asmEntry{}
	var order []string
	for _, e := range tartest.Read(t, f) {
		n := strings.TrimSuffix(e.H.Name, "/")
		m[n] = asmEntry{&e.H, e.Body}
		order = append(order, n)
	}
	return m, order
}

func asmOutFiles(t testing.TB, dir string) []string {
	t.Helper()
	var names []string
	for _, e := range must(os.ReadDir(dir))(t) {
		names = append(names, e.Name())
	}
	return names
}

const asmPrefix = "localhost:1/t/"

func TestAssembleCompose(t *testing.T) {
	c, _ := asmCache(t, asmPrefix)
	yamlPath, out := asmSetup(t, asmYAML(asmPrefix, ""))
	var log bytes.Buffer
	res, err := Build(context.Background(), yamlPath, Options{
		Cache: c, OutputDir: out, Formats: []string{FormatTar, FormatKernelInitrd}, Log: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "note: no trust policy: images are not verified") {
		t.Errorf("log = %q", log.String())
	}
	want := []string{"image-cmdline", "image-initrd.img", "image-kernel", "image.tar"}
	if got := asmOutFiles(t, out); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("outputs %v, want %v (result %v)", got, want, res.Outputs)
	}
	m, _ := asmReadTar(t, filepath.Join(out, "image.tar"))
	yml, _ := os.ReadFile(yamlPath)
	for _, tc := range []struct{ name, body string }{
		{"boot/kernel", "KERNEL-BYTES"},
		{"boot/cmdline", "console=ttyS0 quiet"},
		{"lib/modules/6.6/modules.dep", "mod.ko:\n"},
		{"bin/init", "#!init"},
		{"containers/services/getty/rootfs/bin/svc", "svc v1"},
		{"containers/onboot/000-sysctl/rootfs/bin/svc", "svc v1"},
		{"etc/motd", "hello\n"},
		{"etc/src.txt", "from the host\n"},
		{"etc/linuxkit.yml", string(yml)},
	} {
		e, ok := m[tc.name]
		if !ok {
			t.Errorf("%s missing", tc.name)
			continue
		}
		if e.body != tc.body {
			t.Errorf("%s = %q, want %q", tc.name, e.body, tc.body)
		}
	}
	if e := m["etc/motd"]; e.hdr.Mode != 0o644 {
		t.Errorf("etc/motd mode %o", e.hdr.Mode)
	}
	if e := m["etc/src.txt"]; e.hdr.Mode != 0o600 {
		t.Errorf("etc/src.txt mode %o (LinuxKit default 0600)", e.hdr.Mode)
	}
	if e := m["etc/owned"]; e.hdr.Uid != 1000 || e.hdr.Gid != 50 {
		t.Errorf("etc/owned uid/gid %d/%d, want 1000/50 from the init image's passwd/group", e.hdr.Uid, e.hdr.Gid)
	}
	if e := m["var/lib/d"]; e.hdr.Typeflag != tar.TypeDir || e.hdr.Mode != 0o700 {
		t.Errorf("var/lib/d = %+v", e.hdr)
	}
	if e := m["etc/link"]; e.hdr.Typeflag != tar.TypeSymlink || e.hdr.Linkname != "/etc/motd" {
		t.Errorf("etc/link = %+v", e.hdr)
	}
	if _, ok := m["containers/services/getty/runtime.json"]; !ok {
		t.Error("runtime.json missing")
	}

	// config.json: label + YAML
	var spec specs.Spec
	if err := json.Unmarshal([]byte(m["containers/services/getty/config.json"].body), &spec); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(spec.Process.Args, " "); got != "/bin/svc -f" {
		t.Errorf("getty args %q (from the label)", got)
	}
	if spec.Process.User.UID != 77 {
		t.Errorf("getty uid %d, want 77 (svcuser in its own /etc/passwd)", spec.Process.User.UID)
	}
	dst := map[string]bool{}
	for _, mt := range spec.Mounts {
		dst[mt.Destination] = true
	}
	if !dst["/dev"] || !dst["/var/log"] {
		t.Errorf("getty mounts %+v: want /dev (label binds) and /var/log (binds.add)", spec.Mounts)
	}
	if caps := spec.Process.Capabilities; caps == nil || strings.Join(caps.Effective, ",") != "CAP_NET_ADMIN" {
		t.Errorf("getty caps %+v", caps)
	}
	if err := json.Unmarshal([]byte(m["containers/onboot/000-sysctl/config.json"].body), &spec); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(spec.Process.Args, " "); got != "/bin/svc once" {
		t.Errorf("sysctl args %q (from the YAML)", got)
	}

	// The kernel+initrd outputs agree with the tar.
	if k, _ := os.ReadFile(filepath.Join(out, "image-kernel")); string(k) != "KERNEL-BYTES" {
		t.Errorf("image-kernel = %q", k)
	}

	// The lock file was written beside the YAML, one line per ref.
	lock, ok, err := ReadLock(LockPath(yamlPath))
	if err != nil || !ok || lock.Len() != 3 {
		t.Fatalf("lock: %v %v %v", lock, ok, err)
	}
}

func TestAssembleDeterministic(t *testing.T) {
	c, _ := asmCache(t, asmPrefix)
	yamlPath, out1 := asmSetup(t, asmYAML(asmPrefix, ""))
	out2 := filepath.Join(filepath.Dir(out1), "out2")
	formats := []string{FormatTar, FormatKernelInitrd, FormatTarKernelInitrd}
	for _, out := range []string{out1, out2} {
		if _, err := Build(context.Background(), yamlPath, Options{Cache: c, OutputDir: out, Formats: formats}); err != nil {
			t.Fatal(err)
		}
	}
	names := asmOutFiles(t, out1)
	if len(names) != 5 || strings.Join(names, ",") != strings.Join(asmOutFiles(t, out2), ",") {
		t.Fatalf("outputs %v vs %v", names, asmOutFiles(t, out2))
	}
	for _, n := range names {
		a, _ := os.ReadFile(filepath.Join(out1, n))
		b, _ := os.ReadFile(filepath.Join(out2, n))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds", n)
		}
	}
}

func (*Lock) parseForTest(t testing.TB, b []byte) *Lock {
	t.Helper()
	l, err := ParseLock("test.lock", b)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestComposeRefusesWritingThroughSymlinks(t *testing.T) {
	imgs := map[string]v1.Image{
		"a": asmImage(t, "", layertest.Sym("etc", "/tmp/evil")),
		"b": asmImage(t, "", layertest.Dir("etc/"), layertest.File("etc/passwd", "x")),
		"c": asmImage(t, "", layertest.File("etc", "file")),
		"d": asmImage(t, "", layertest.Dir("lib/"), layertest.File("lib/x", "1"), layertest.Sym("lib/y", "x")),
		"e": asmImage(t, "", layertest.File("lib/x", "2"), layertest.File("lib/y", "replaces the symlink")),
		"f": asmImage(t, "", layertest.Dir("etc/")),
	}
	src := func(ref string) (v1.Image, error) { return imgs[ref], nil }
	for _, tc := range []struct {
		name  string
		init  []string
		files string
		want  error
		msg   string
	}{
		{name: "init through init symlink", init: []string{"a", "b"}, want: ErrThroughSymlink, msg: `symlink "etc" (from init[0] a)`},
		{name: "files through init symlink", init: []string{"a"}, files: "files:\n  - path: etc/motd\n    contents: x\n", want: ErrThroughSymlink},
		{name: "below a file", init: []string{"c", "b"}, want: ErrNotDir},
		{name: "dir replaced by file", init: []string{"f", "c"}, msg: "does not replace directories"},
		{name: "later wins", init: []string{"d", "e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := "init:\n"
			for _, r := range tc.init {
				y += "  - " + r + "\n"
			}
			img, err := ParseImage("x.yml", []byte(y+tc.files))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			err = Compose(&buf, img, src, ComposeOptions{TempDir: t.TempDir()})
			if tc.want == nil && tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(t.TempDir(), "r.tar")
				os.WriteFile(p, buf.Bytes(), 0o644)
				m, _ := asmReadTar(t, p)
				if m["lib/x"].body != "2" || m["lib/y"].hdr.Typeflag != tar.TypeReg {
					t.Errorf("later image did not win: %+v", m)
				}
				return
			}
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v / %q", err, tc.want, tc.msg)
			}
		})
	}
}

func TestAssembleBadYAML(t *testing.T) {
	yamlPath, out := asmSetup(t, "init:\n  - linuxkit/init:v1\nservices:\n  - name: x\n    imag: foo\n")
	_, err := Build(context.Background(), yamlPath, Options{OutputDir: out})
	if err == nil || !strings.Contains(err.Error(), yamlPath+":5:") || !strings.Contains(err.Error(), "services[0].imag") {
		t.Fatalf("err = %v", err)
	}
	outOnlyFiles(t, out) // none
	if _, err := Build(context.Background(), yamlPath, Options{OutputDir: out, Formats: []string{"iso-bios"}}); err == nil || !strings.Contains(err.Error(), "iso-bios") {
		t.Fatalf("bad format: err = %v", err)
	}
}
