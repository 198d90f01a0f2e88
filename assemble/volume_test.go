package assemble

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/lkpkg/lkpkg/assemble/internal/tartest"
	"github.com/lkpkg/lkpkg/assemble/layer/layertest"
	"github.com/lkpkg/lkpkg/runconfig"
)

// volPlatformImage is a one-layer image for platform p (random.Layer for
// content that is still the same bytes every time it is read).
func volPlatformImage(t testing.TB, p v1.Platform, entries ...layertest.Entry) v1.Image {
	t.Helper()
	rl := must(random.Layer(512, types.OCILayer))(t)
	img := must(mutate.AppendLayers(asmImage(t, "", entries...), rl))(t)
	return withConfig(t, img, func(cf *v1.ConfigFile) {
		cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	})
}

// volSources serves images and indexes the way the builder does: the
// ImageSource gives an index's linux/amd64 child, the IndexSource the
// index itself (ErrNotIndex for a plain image).
type volSources struct {
	images  map[string]v1.Image
	indexes map[string]v1.ImageIndex
	calls   []string // IndexSource calls
}

func (s *volSources) image(ref string) (v1.Image, error) {
	if im, ok := s.images[ref]; ok {
		return im, nil
	}
	idx, ok := s.indexes[ref]
	if !ok {
		return nil, fmt.Errorf("no image %s", ref)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == "amd64" {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("index %s has no linux/amd64 image", ref)
}

func (s *volSources) index(ref string) (v1.ImageIndex, error) {
	s.calls = append(s.calls, ref)
	if idx, ok := s.indexes[ref]; ok {
		return idx, nil
	}
	if _, ok := s.images[ref]; ok {
		return nil, fmt.Errorf("%s: %w", ref, ErrNotIndex)
	}
	return nil, fmt.Errorf("no index %s", ref)
}

type volTar struct {
	m     map[string]asmEntry
	order []string
}

func volCompose(t testing.TB, img *Image, s *volSources) (*volTar, []byte, error) {
	t.Helper()
	var buf bytes.Buffer
	opts := ComposeOptions{TempDir: t.TempDir()}
	if s.indexes != nil || s.images != nil {
		opts.IndexSource = s.index
	}
	if err := Compose(&buf, img, s.image, opts); err != nil {
		return nil, nil, err
	}
	p := filepath.Join(t.TempDir(), "r.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m, order := asmReadTar(t, p)
	return &volTar{m, order}, buf.Bytes(), nil
}

func volParse(t testing.TB, y string) *Image {
	t.Helper()
	img, err := ParseImage("v.yml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// under lists the names below dir (not dir itself), in tar order.
func (r *volTar) under(dir string) []string {
	var out []string
	for _, n := range r.order {
		if strings.HasPrefix(n, dir+"/") {
			out = append(out, strings.TrimPrefix(n, dir+"/"))
		}
	}
	return out
}

func (r *volTar) index(name string) int { return slices.Index(r.order, name) }

func TestComposeVolumes(t *testing.T) {
	initImg := asmImage(t, "", layertest.Dir("bin/"), layertest.File("bin/init", "#!init"))
	svc := asmImage(t, `{"command":["/bin/svc"]}`, layertest.Dir("bin/"), layertest.File("bin/svc", "svc"))
	data := asmImage(t, "", layertest.Dir("etc/"), layertest.File("etc/data.conf", "hello"), layertest.Sym("etc/link", "data.conf"))
	s := &volSources{images: map[string]v1.Image{"init:v1": initImg, "svc:v1": svc, "data:v1": data}}
	const base = "containers/volumes/"
	for _, tc := range []struct {
		name    string
		vol     string
		dirs    []string // of containers/volumes/NAME, in order
		lower   []string // entries below lower/, in order
		content map[string]string
	}{
		{name: "empty", vol: "{name: v}", dirs: []string{"lower", "tmp", "merged"}},
		{name: "empty read-only", vol: "{name: v, readonly: true}", dirs: []string{"lower", "merged"}},
		{name: "filesystem (default format)", vol: "{name: v, image: data:v1}", dirs: []string{"lower", "lower/etc", "lower/etc/data.conf", "lower/etc/link", "tmp", "merged"},
			lower: []string{"etc", "etc/data.conf", "etc/link"}, content: map[string]string{"etc/data.conf": "hello"}},
		{name: "filesystem read-only", vol: "{name: v, image: data:v1, format: filesystem, readonly: true}", dirs: []string{"lower", "lower/etc", "lower/etc/data.conf", "lower/etc/link", "merged"},
			lower: []string{"etc", "etc/data.conf", "etc/link"}, content: map[string]string{"etc/data.conf": "hello"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := volParse(t, "init: [init:v1]\nvolumes:\n  - "+tc.vol+"\nonboot:\n  - {name: o, image: svc:v1, binds: [\"v:/v:ro\"]}\n")
			r, _, err := volCompose(t, img, s)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.under(base + "v"); !slices.Equal(got, tc.dirs) {
				t.Errorf("containers/volumes/v/: %q, want %q", got, tc.dirs)
			}
			if got := r.under(base + "v/lower"); !slices.Equal(got, tc.lower) {
				t.Errorf("lower/: %q, want %q", got, tc.lower)
			}
			for n, want := range tc.content {
				if got := r.m[base+"v/lower/"+n].body; got != want {
					t.Errorf("lower/%s = %q, want %q", n, got, want)
				}
			}
			for _, d := range append([]string{"containers", "containers/volumes", base + "v"}, tc.dirs...) {
				if !strings.HasPrefix(d, "containers") {
					d = base + "v/" + d
				}
				e, ok := r.m[d]
				if !ok {
					t.Fatalf("%s missing", d)
				}
				if strings.Contains(d, "/lower/") {
					continue
				}
				if e.hdr.Typeflag != tar.TypeDir || e.hdr.Mode != 0o755 || e.hdr.Uid != 0 || !e.hdr.ModTime.Equal(composeEpoch) {
					t.Errorf("%s: %c %o uid %d mtime %v", d, e.hdr.Typeflag, e.hdr.Mode, e.hdr.Uid, e.hdr.ModTime)
				}
			}
			// LinuxKit's order: init, volumes, onboot.
			if !(r.index("bin/init") < r.index(base+"v") && r.index(base+"v/merged") < r.index("containers/onboot/000-o")) {
				t.Errorf("order: %q", r.order)
			}
		})
	}
}

// volConfig returns the mounts of a container's config.json by destination.
func volConfig(t testing.TB, r *volTar, dir string) map[string]specs.Mount {
	t.Helper()
	var spec specs.Spec
	if err := json.Unmarshal([]byte(r.m[dir+"/config.json"].body), &spec); err != nil {
		t.Fatalf("%s/config.json: %v", dir, err)
	}
	out := map[string]specs.Mount{}
	for _, m := range spec.Mounts {
		out[m.Destination] = m
	}
	return out
}

func TestVolumeBindsRewritten(t *testing.T) {
	svc := asmImage(t, `{"command":["/bin/svc"],"binds":["/dev:/dev"]}`, layertest.File("bin/svc", "svc"))
	s := &volSources{images: map[string]v1.Image{"svc:v1": svc}}
	img := volParse(t, `volumes:
  - {name: data}
  - {name: conf, readonly: true}
onboot:
  - name: setup
    image: svc:v1
    binds: ["data:/data", "/etc:/etc:ro", "conf:/conf:ro,rshared"]
    mounts:
      - {type: bind, source: data, destination: /m, options: [rbind, rw]}
      - {type: bind, source: conf, destination: /mc, options: [rbind, ro]}
      - {type: bind, source: /var, destination: /var, options: [rbind]}
services:
  - name: web
    image: svc:v1
    binds.add: ["conf:/srv/conf:ro", "data:/srv/data:rw"]
`)
	r, _, err := volCompose(t, img, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, dest, src string
		opts           []string
	}{
		{"containers/onboot/000-setup", "/data", "/containers/volumes/data/merged", []string{"rw", "rbind", "rshared"}},
		{"containers/onboot/000-setup", "/etc", "/etc", []string{"ro", "rbind"}},
		{"containers/onboot/000-setup", "/conf", "/containers/volumes/conf/merged", []string{"ro", "rshared", "rbind"}},
		{"containers/onboot/000-setup", "/m", "/containers/volumes/data/merged", []string{"rbind", "rw"}},
		{"containers/onboot/000-setup", "/mc", "/containers/volumes/conf/merged", []string{"rbind", "ro"}},
		{"containers/onboot/000-setup", "/var", "/var", []string{"rbind"}},
		{"containers/services/web", "/dev", "/dev", []string{"rw", "rbind", "rshared"}}, // the label's binds stay
		{"containers/services/web", "/srv/conf", "/containers/volumes/conf/merged", []string{"ro", "rbind"}},
		{"containers/services/web", "/srv/data", "/containers/volumes/data/merged", []string{"rw", "rbind"}},
	} {
		m, ok := volConfig(t, r, tc.dir)[tc.dest]
		if !ok || m.Source != tc.src || m.Type != "bind" || !slices.Equal(m.Options, tc.opts) {
			t.Errorf("%s: mount %s = %+v, want source %s options %q", tc.dir, tc.dest, m, tc.src, tc.opts)
		}
	}
	// The YAML model is not changed by Compose.
	if b := (*img.Onboot[0].Binds)[0]; b != "data:/data" {
		t.Errorf("Compose changed the image's binds: %q", b)
	}
	if v := img.VolByName("conf"); v == nil || v.MergedDir() != "/containers/volumes/conf/merged" || v.LowerDir() != "/containers/volumes/conf/lower" ||
		v.TmpDir() != "/containers/volumes/conf/tmp" || img.VolByName("nope") != nil {
		t.Errorf("VolByName/dirs: %+v", v)
	}
}

func TestVolumeBindErrors(t *testing.T) {
	svc := asmImage(t, `{"command":["/bin/svc"]}`, layertest.File("bin/svc", "svc"))
	s := &volSources{images: map[string]v1.Image{"svc:v1": svc}}
	strs := func(v ...string) *[]string { return &v }
	vols := []Volume{{Name: "data"}, {Name: "conf", ReadOnly: true}}
	for _, tc := range []struct {
		name     string
		cfg      runconfig.Config
		yaml     string // the same as YAML, for the parse-time check ("" to skip)
		want     []string
		yamlWant string
	}{
		{name: "read-only volume bound without options", cfg: runconfig.Config{Binds: strs("conf:/conf")},
			yaml: `binds: ["conf:/conf"]`, want: []string{`services[0] "web"`, `volume "conf" is read-only`, "binds[0]"}, yamlWant: "services[0].binds[0]"},
		{name: "read-only volume bound rw", cfg: runconfig.Config{BindsAdd: strs("/etc:/etc", "conf:/conf:rw")},
			yaml: `binds.add: ["/etc:/etc", "conf:/conf:rw"]`, want: []string{`services[0] "web"`, `volume "conf" is read-only`, "binds.add[1]"}, yamlWant: "services[0].binds.add[1]"},
		{name: "read-only volume bound ro then rw", cfg: runconfig.Config{Binds: strs("conf:/conf:ro,rw")},
			yaml: `binds: ["conf:/conf:ro,rw"]`, want: []string{`volume "conf" is read-only`}, yamlWant: "services[0].binds[0]"},
		{name: "read-only volume mounted without ro", cfg: runconfig.Config{Mounts: &[]specs.Mount{{Type: "bind", Source: "conf", Destination: "/c", Options: []string{"rbind"}}}},
			yaml: `mounts: [{type: bind, source: conf, destination: /c, options: [rbind]}]`, want: []string{`services[0] "web"`, `volume "conf" is read-only`, "mounts[0]"}, yamlWant: "services[0].mounts[0].options"},
		{name: "unknown volume in a bind", cfg: runconfig.Config{Binds: strs("cache:/var/cache")},
			yaml: `binds: ["cache:/var/cache"]`, want: []string{`services[0] "web"`, `no volume "cache"`}, yamlWant: "services[0].binds[0]"},
		{name: "unknown volume in a mount", cfg: runconfig.Config{Mounts: &[]specs.Mount{{Type: "bind", Source: "cache", Destination: "/c"}}},
			yaml: `mounts: [{type: bind, source: cache, destination: /c}]`, want: []string{`no volume "cache"`, "mounts[0]"}, yamlWant: "services[0].mounts[0].source"},
		{name: "bind mount without source", cfg: runconfig.Config{Mounts: &[]specs.Mount{{Type: "bind", Destination: "/c"}}},
			yaml: `mounts: [{type: bind, destination: /c}]`, want: []string{"needs a source"}, yamlWant: "services[0].mounts[0].source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := &Image{Volumes: vols, Services: []ImageEntry{{Name: "web", Image: "svc:v1", Config: tc.cfg}}}
			_, _, err := volCompose(t, img, s)
			if err == nil {
				t.Fatal("Compose succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Compose: err = %v, want %q", err, w)
				}
			}
			y := "volumes:\n  - {name: data}\n  - {name: conf, readonly: true}\nservices:\n  - name: web\n    image: svc:v1\n    " + tc.yaml + "\n"
			_, err = ParseImage("v.yml", []byte(y))
			var ye *ImageYAMLError
			if !errors.As(err, &ye) || ye.Field != tc.yamlWant || ye.Line != 7 {
				t.Errorf("ParseImage: err = %v, want field %s at line 7", err, tc.yamlWant)
			}
		})
	}
	// Read-only binds of read-only volumes are fine, however the options
	// are spelled.
	for _, b := range []string{"conf:/c:ro", "conf:/c:ro,rshared", "conf:/c:rshared,ro", "conf:/c:rw,ro"} {
		img := &Image{Volumes: vols, Services: []ImageEntry{{Name: "web", Image: "svc:v1", Config: runconfig.Config{Binds: strs(b)}}}}
		if _, _, err := volCompose(t, img, s); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
	// A volume list that did not come through ParseImage is checked too.
	for _, bad := range [][]Volume{{{Name: "../x"}}, {{Name: "a"}, {Name: "a"}}, {{Name: "a", Format: "ext4"}}} {
		if _, _, err := volCompose(t, &Image{Volumes: bad}, s); err == nil {
			t.Errorf("volumes %+v accepted", bad)
		}
	}
}

// volMultiIndex is an index of linux/amd64, linux/arm64/v8 and
// linux/arm/v7 images, plus an attestation manifest as BuildKit adds.
func volMultiIndex(t testing.TB, attestation bool) (v1.ImageIndex, map[string]v1.Hash) {
	t.Helper()
	plats := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}, {OS: "linux", Architecture: "arm", Variant: "v7"}}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	digests := map[string]v1.Hash{}
	for _, p := range plats {
		im := volPlatformImage(t, p, layertest.File("arch", p.String()))
		digests[p.String()] = asmDigest(t, im)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: im, Descriptor: v1.Descriptor{Platform: &p}})
	}
	if attestation {
		att, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
		}})
	}
	return idx, digests
}

// volLayout unpacks a volume's lower/ from the composed tar and opens it
// as an OCI layout.
func volLayout(t testing.TB, r *volTar, lower string) layout.Path {
	t.Helper()
	dir := t.TempDir()
	for _, n := range r.under(lower) {
		e := r.m[lower+"/"+n]
		p := filepath.Join(dir, filepath.FromSlash(n))
		switch e.hdr.Typeflag {
		case tar.TypeDir:
			if e.hdr.Mode != 0o755 {
				t.Errorf("%s: mode %o", n, e.hdr.Mode)
			}
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if e.hdr.Mode != 0o644 || !e.hdr.ModTime.Equal(composeEpoch) || e.hdr.Uid != 0 {
				t.Errorf("%s: mode %o mtime %v uid %d", n, e.hdr.Mode, e.hdr.ModTime, e.hdr.Uid)
			}
			if err := os.WriteFile(p, []byte(e.body), 0o644); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("%s: type %c in an OCI layout", n, e.hdr.Typeflag)
		}
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("layout.FromPath: %v", err)
	}
	return lp
}

func TestVolumeOCI(t *testing.T) {
	full, digests := volMultiIndex(t, false)
	withAtt, attDigests := volMultiIndex(t, true)
	single := volPlatformImage(t, v1.Platform{OS: "linux", Architecture: "amd64"}, layertest.File("single", "1"))
	s := &volSources{
		images:  map[string]v1.Image{"single:v1": single},
		indexes: map[string]v1.ImageIndex{"multi:v1": full, "att:v1": withAtt},
	}
	const lower = "containers/volumes/v/lower"
	for _, tc := range []struct {
		name      string
		vol       string
		children  []v1.Hash // the layout's index's children, in order
		keepIndex v1.ImageIndex
		single    v1.Image
		err       string
	}{
		{name: "default platform is the build's", vol: "{name: v, image: att:v1, format: oci}", children: []v1.Hash{attDigests["linux/amd64"]}},
		{name: "two platforms", vol: "{name: v, image: att:v1, format: oci, platforms: [linux/arm64, linux/amd64]}",
			children: []v1.Hash{attDigests["linux/amd64"], attDigests["linux/arm64/v8"]}},
		{name: "every platform keeps the pinned index", vol: "{name: v, image: multi:v1, format: oci, readonly: true, platforms: [linux/amd64, linux/arm64/v8, linux/arm/v7]}",
			children: []v1.Hash{digests["linux/amd64"], digests["linux/arm64/v8"], digests["linux/arm/v7"]}, keepIndex: full},
		{name: "variant filter", vol: "{name: v, image: multi:v1, format: oci, platforms: [linux/arm/v7]}", children: []v1.Hash{digests["linux/arm/v7"]}},
		{name: "single manifest", vol: "{name: v, image: single:v1, format: oci}", single: single},
		{name: "single manifest, other platform", vol: "{name: v, image: single:v1, format: oci, platforms: [linux/arm64]}", err: "not one of the volume's platforms"},
		{name: "missing platform", vol: "{name: v, image: multi:v1, format: oci, platforms: [linux/amd64, linux/s390x]}", err: "no image for platform linux/s390x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := volParse(t, "volumes:\n  - "+tc.vol+"\n")
			r, _, err := volCompose(t, img, s)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), `volumes[0] "v"`) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Sorted: blobs/ and its blobs, then index.json and oci-layout.
			if n := r.under(lower); len(n) < 4 || n[0] != "blobs" || n[1] != "blobs/sha256" || n[len(n)-2] != "index.json" || n[len(n)-1] != "oci-layout" {
				t.Errorf("layout order: %q", n)
			}
			top := must(volLayout(t, r, lower).ImageIndex())(t)
			tm := must(top.IndexManifest())(t)
			if len(tm.Manifests) != 1 || tm.Manifests[0].Annotations[ocispec.AnnotationRefName] != img.Volumes[0].Image {
				t.Fatalf("index.json: %+v", tm)
			}
			d := tm.Manifests[0]
			if tc.single != nil {
				want := asmDigest(t, tc.single)
				if d.Digest != want || !d.MediaType.IsImage() || d.Platform == nil || d.Platform.Architecture != "amd64" {
					t.Fatalf("index.json entry %+v, want the image %s", d, want)
				}
				im, err := top.Image(d.Digest)
				if err != nil {
					t.Fatal(err)
				}
				if err := validate.Image(im); err != nil {
					t.Fatalf("validate.Image: %v", err)
				}
				return
			}
			idx, err := top.ImageIndex(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate.Index(idx); err != nil {
				t.Fatalf("validate.Index: %v", err)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			var got []v1.Hash
			for _, c := range im.Manifests {
				got = append(got, c.Digest)
				if c.Platform == nil {
					t.Errorf("child %s lost its platform", c.Digest)
				}
			}
			if !slices.Equal(got, tc.children) {
				t.Errorf("children %v, want %v", got, tc.children)
			}
			if tc.keepIndex != nil && d.Digest != asmDigest(t, tc.keepIndex) {
				t.Errorf("index %s, want the pinned %s", d.Digest, asmDigest(t, tc.keepIndex))
			}
			// Only the kept images' blobs are in the layout.
			var blobs int
			for _, n := range r.under(lower + "/blobs/sha256") {
				blobs++
				if strings.Contains(n, "/") {
					t.Errorf("nested blob %s", n)
				}
			}
			if want := 1 + 4*len(tc.children); blobs != want { // index + (manifest, config, 2 layers) each
				t.Errorf("%d blobs, want %d", blobs, want)
			}
			if _, ok := r.m["containers/volumes/v/tmp"]; ok == img.Volumes[0].ReadOnly {
				t.Errorf("tmp/ present = %v for readonly = %v", ok, img.Volumes[0].ReadOnly)
			}
		})
	}

}

// Without an IndexSource, format: oci is a clear error; a volume without
// an image needs none.
func TestVolumeOCINeedsIndexSource(t *testing.T) {
	full, _ := volMultiIndex(t, false)
	s := &volSources{indexes: map[string]v1.ImageIndex{"multi:v1": full}}
	var buf bytes.Buffer
	img := volParse(t, "volumes:\n  - {name: v, image: multi:v1, format: oci}\n")
	err := Compose(&buf, img, s.image, ComposeOptions{TempDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "IndexSource") {
		t.Errorf("no IndexSource: err = %v", err)
	}
	// A volume without an image needs no IndexSource, whatever its format.
	img = volParse(t, "volumes:\n  - {name: v, format: oci}\n")
	if err := Compose(&buf, img, s.image, ComposeOptions{TempDir: t.TempDir()}); err != nil {
		t.Errorf("empty oci volume: %v", err)
	}
}

// A layer whose blob in the (cache's) layout on disk does not match its
// digest fails the build: the layout package's reads are not verified.
func TestVolumeOCITamperedLayer(t *testing.T) {
	idx, _ := volMultiIndex(t, false)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	lidx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	cached, err := lidx.ImageIndex(asmDigest(t, idx))
	if err != nil {
		t.Fatal(err)
	}
	s := &volSources{indexes: map[string]v1.ImageIndex{"multi:v1": cached}}
	img := volParse(t, "volumes:\n  - {name: v, image: multi:v1, format: oci, platforms: [linux/arm64]}\n")
	if _, _, err := volCompose(t, img, s); err != nil {
		t.Fatalf("untampered: %v", err)
	}

	m, _ := idx.IndexManifest()
	arm, _ := idx.Image(m.Manifests[1].Digest)
	ls, _ := arm.Layers()
	ld, _ := ls[1].Digest()
	b := must(os.ReadFile(layertest.BlobPath(dir, ld)))(t)
	b[len(b)/2] ^= 0xff
	layertest.ReplaceBlob(t, dir, ld, b)
	if _, _, err := volCompose(t, img, s); !errors.Is(err, ErrLayerDigest) {
		t.Fatalf("tampered layer: err = %v", err)
	}

	// A manifest that does not match the index's descriptor is refused.
	md := m.Manifests[1].Digest
	raw, _ := os.ReadFile(layertest.BlobPath(dir, md))
	layertest.ReplaceBlob(t, dir, md, append(raw, ' '))
	if _, _, err := volCompose(t, img, s); err == nil || !strings.Contains(err.Error(), "manifest hashes to") {
		t.Fatalf("tampered manifest: err = %v", err)
	}
}

// The same inputs compose to the same bytes, volumes of every kind
// included, whatever the temporary directories.
func TestVolumeDeterministic(t *testing.T) {
	idx, _ := volMultiIndex(t, true)
	s := &volSources{
		images: map[string]v1.Image{
			"svc:v1":  asmImage(t, `{"command":["/bin/svc"]}`, layertest.File("bin/svc", "svc")),
			"data:v1": asmImage(t, "", layertest.Dir("etc/"), layertest.File("etc/data.conf", "hello")),
		},
		indexes: map[string]v1.ImageIndex{"multi:v1": idx},
	}
	img := volParse(t, `volumes:
  - {name: empty}
  - {name: fs, image: data:v1, readonly: true}
  - {name: oci, image: multi:v1, format: oci, platforms: [linux/amd64, linux/arm/v7]}
  - {name: oci2, image: multi:v1, format: oci}
services:
  - name: web
    image: svc:v1
    binds: ["empty:/e", "fs:/fs:ro", "oci:/oci"]
`)
	_, a, err := volCompose(t, img, s)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := volCompose(t, img, s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two composes of the same inputs differ")
	}
	for _, e := range tartest.Read(t, bytes.NewReader(a)) {
		h := &e.H
		if strings.HasPrefix(h.Name, "containers/volumes/oci") && !h.ModTime.Equal(composeEpoch) {
			t.Errorf("%s: mtime %v", h.Name, h.ModTime)
		}
	}
}
