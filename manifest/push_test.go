package manifest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lkpkg/lkpkg/internal/testenv"
	"github.com/lkpkg/lkpkg/manifest"
	"github.com/lkpkg/lkpkg/registry"
)

var (
	pAmd64   = v1.Platform{OS: "linux", Architecture: "amd64"}
	pArm64   = v1.Platform{OS: "linux", Architecture: "arm64"}
	pArm64v8 = v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	pRiscv64 = v1.Platform{OS: "linux", Architecture: "riscv64"}
)

// platImage is a random image whose config names platform p.
func platImage(t testing.TB, p v1.Platform, size, layers int64) v1.Image {
	return testenv.PlatformImage(t, p, size, layers)
}

// twoArch is the index of an amd64 image and an arm image (platform arm).
func twoArch(t testing.TB, amd v1.Image, arm v1.Platform, armImg v1.Image) (v1.Image, v1.Image, v1.ImageIndex) {
	t.Helper()
	return amd, armImg, index(t, manifest.PlatformImage{Platform: pAmd64, Image: amd}, manifest.PlatformImage{Platform: arm, Image: armImg})
}

func index(t testing.TB, imgs ...manifest.PlatformImage) v1.ImageIndex {
	t.Helper()
	idx, err := manifest.Index(imgs)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func mustDigest(t testing.TB, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func tagOf(t testing.TB, host, repoTag string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

// pushOpts: insecure loopback, anonymous (never the user's docker
// config), and quick retries (the tests inject many faults).
func pushOpts() manifest.PushOptions {
	return manifest.PushOptions{Registry: registry.Options{
		Insecure: true, Keychain: authn.NewMultiKeychain(),
		Backoff: remote.Backoff{Duration: 20 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 5},
	}}
}

func push(t testing.TB, idx v1.ImageIndex, tag name.Tag, o manifest.PushOptions) manifest.PushResult {
	t.Helper()
	res, err := manifest.Push(context.Background(), idx, tag, o)
	if err != nil {
		t.Fatalf("push %s: %v", tag, err)
	}
	return res
}

// remoteDigest is what ref points at in the registry, or the zero hash.
func remoteDigest(t testing.TB, ref name.Reference) v1.Hash {
	t.Helper()
	d, err := remote.Head(ref)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return v1.Hash{}
	}
	if err != nil {
		t.Fatalf("HEAD %s: %v", ref, err)
	}
	return d.Digest
}

// remoteChildren lists the remote index at tag as platform -> digest;
// attestations under "att:<subject digest>".
func remoteChildren(t testing.TB, tag name.Tag) map[string]v1.Hash {
	t.Helper()
	out := map[string]v1.Hash{}
	for _, d := range indexChildren(t, remoteGet(t, tag)) {
		k := d.Platform.String()
		if s := d.Annotations["vnd.docker.reference.digest"]; s != "" {
			k = "att:" + s
		}
		if _, dup := out[k]; dup {
			t.Fatalf("%s twice in %s", k, tag)
		}
		out[k] = d.Digest
	}
	return out
}

// remoteGet fetches the manifest at ref from the registry.
func remoteGet(t testing.TB, ref name.Reference) *remote.Descriptor {
	t.Helper()
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	return desc
}

// indexChildren lists the manifests of the index desc.
func indexChildren(t testing.TB, desc *remote.Descriptor) []v1.Descriptor {
	t.Helper()
	im, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
	if err != nil || !desc.MediaType.IsIndex() {
		t.Fatalf("%s is no index (%s): %v", desc.Digest, desc.MediaType, err)
	}
	return im.Manifests
}

// blobCount is the number of distinct blobs (layers + configs) of imgs.
func blobStats(t testing.TB, imgs ...v1.Image) (int, int64) {
	t.Helper()
	seen := map[v1.Hash]bool{}
	var size int64
	for _, img := range imgs {
		ls, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			d, sz := mustDigest(t, l), int64(0)
			if sz, err = l.Size(); err != nil {
				t.Fatal(err)
			}
			if !seen[d] {
				seen[d] = true
				size += sz
			}
		}
		raw, err := img.RawConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := img.ConfigName(); !seen[d] {
			seen[d] = true
			size += int64(len(raw))
		}
	}
	return len(seen), size
}

// assertComplete checks, directly against the registry, that every
// manifest reachable from ref exists and has all its blobs.
func assertComplete(t testing.TB, ref name.Reference) {
	t.Helper()
	desc := remoteGet(t, ref)
	var imgs []v1.Image
	if desc.MediaType.IsIndex() {
		for _, d := range indexChildren(t, desc) {
			img, err := remote.Image(ref.Context().Digest(d.Digest.String()))
			if err != nil {
				t.Fatalf("%s: child %s missing: %v", ref, d.Digest, err)
			}
			imgs = append(imgs, img)
		}
	} else {
		img, err := desc.Image()
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	for _, img := range imgs {
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
			u := fmt.Sprintf("http://%s/v2/%s/blobs/%s", ref.Context().RegistryStr(), ref.Context().RepositoryStr(), d.Digest)
			resp, err := http.Head(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: blob %s: HEAD %d", ref, d.Digest, resp.StatusCode)
			}
		}
	}
}

func TestPushRoundTrip(t *testing.T) {
	testenv.Integration(t)
	host := testenv.Registry(t)
	amd, arm, idx := twoArch(t, platImage(t, pAmd64, 4096, 2), pArm64v8, platImage(t, pArm64v8, 4096, 3))
	nBlobs, nBytes := blobStats(t, amd, arm)
	tag := tagOf(t, host, "lkpkg/hello:abc")

	var progress bytes.Buffer
	o := pushOpts()
	o.Progress = &progress
	res := push(t, idx, tag, o)
	t.Logf("first push: %+v", res)
	if want := mustDigest(t, idx); res.Digest != want || remoteDigest(t, tag) != want {
		t.Fatalf("pushed %s, remote %s, local index %s", res.Digest, remoteDigest(t, tag), want)
	}
	if res.UploadedBlobs != nBlobs || res.UploadedBytes != nBytes || res.ExistingBlobs != 0 {
		t.Errorf("uploaded %d blobs, %d bytes, %d existing; want %d, %d, 0", res.UploadedBlobs, res.UploadedBytes, res.ExistingBlobs, nBlobs, nBytes)
	}
	if !slices.Equal(res.Platforms, []string{"linux/amd64", "linux/arm64/v8"}) || res.Ref != tag.String() {
		t.Errorf("result %+v", res)
	}
	for _, c := range []struct {
		tag string
		img v1.Image
	}{{"abc-amd64", amd}, {"abc-arm64v8", arm}} {
		if got, want := remoteDigest(t, tag.Context().Tag(c.tag)), mustDigest(t, c.img); got != want {
			t.Errorf("%s points at %s, want %s", c.tag, got, want)
		}
	}
	assertComplete(t, tag)
	if lines := strings.Count(progress.String(), "\npushed linux/"); lines+boolInt(strings.HasPrefix(progress.String(), "pushed linux/")) != 2 {
		t.Errorf("progress:\n%s", progress.String())
	}
	t.Logf("progress:\n%s", progress.String())

	res2 := push(t, idx, tag, pushOpts())
	t.Logf("second push: %+v", res2)
	if res2.UploadedBytes != 0 || res2.UploadedBlobs != 0 || res2.ExistingBlobs != nBlobs || res2.Digest != res.Digest {
		t.Errorf("unchanged re-push: %+v, want 0 bytes, 0 blobs, %d existing", res2, nBlobs)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPushMergesAcrossHosts(t *testing.T) {
	testenv.Integration(t)
	host := testenv.Registry(t)
	tag := tagOf(t, host, "lkpkg/multi:1")
	amd1, arm1, amd2 := platImage(t, pAmd64, 1024, 1), platImage(t, pArm64, 1024, 1), platImage(t, pAmd64, 1024, 1)
	steps := []struct {
		name string
		img  manifest.PlatformImage
		want map[string]v1.Image
	}{
		{"host A pushes amd64", manifest.PlatformImage{Platform: pAmd64, Image: amd1}, map[string]v1.Image{"linux/amd64": amd1}},
		{"host B pushes arm64", manifest.PlatformImage{Platform: pArm64, Image: arm1}, map[string]v1.Image{"linux/amd64": amd1, "linux/arm64": arm1}},
		{"host A pushes a new amd64", manifest.PlatformImage{Platform: pAmd64, Image: amd2}, map[string]v1.Image{"linux/amd64": amd2, "linux/arm64": arm1}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			res := push(t, index(t, s.img), tag, pushOpts())
			got := remoteChildren(t, tag)
			if len(got) != len(s.want) {
				t.Fatalf("remote index %v, want %d children", got, len(s.want))
			}
			var want []manifest.PlatformImage
			for p, img := range s.want {
				if got[p] != mustDigest(t, img) {
					t.Errorf("%s: remote %s, want %s", p, got[p], mustDigest(t, img))
				}
				pl, _ := v1.ParsePlatform(p)
				want = append(want, manifest.PlatformImage{Platform: *pl, Image: img})
			}
			// Deterministic: the same as an index built locally from the same images.
			if d := mustDigest(t, index(t, want...)); res.Digest != d || remoteDigest(t, tag) != d {
				t.Errorf("merged %s, remote %s, local equivalent %s", res.Digest, remoteDigest(t, tag), d)
			}
			assertComplete(t, tag)
		})
	}
}

// withAttestations is idx plus one buildkit-style attestation manifest per
// image named in subjects.
func withAttestations(t testing.TB, idx v1.ImageIndex, subjects ...v1.Image) (v1.ImageIndex, []v1.Image) {
	t.Helper()
	var adds []mutate.IndexAddendum
	var atts []v1.Image
	for _, s := range subjects {
		att := platImage(t, v1.Platform{OS: "unknown", Architecture: "unknown"}, 512, 1)
		atts = append(atts, att)
		adds = append(adds, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
			MediaType: mustMediaType(t, att), Size: mustSize(t, att), Digest: mustDigest(t, att),
			Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{
				"vnd.docker.reference.digest": mustDigest(t, s).String(),
				"vnd.docker.reference.type":   "attestation-manifest",
			},
		}})
	}
	return mutate.AppendManifests(idx, adds...), atts
}

func mustMediaType(t testing.TB, img v1.Image) types.MediaType {
	t.Helper()
	mt, err := img.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	return mt
}

func mustSize(t testing.TB, img v1.Image) int64 {
	t.Helper()
	n, err := img.Size()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPushAttestations(t *testing.T) {
	testenv.Integration(t)
	host := testenv.Registry(t)
	tag := tagOf(t, host, "lkpkg/att:1")
	amd, arm, arm2 := platImage(t, pAmd64, 1024, 1), platImage(t, pArm64, 1024, 1), platImage(t, pArm64, 1024, 1)
	first, atts := withAttestations(t, index(t,
		manifest.PlatformImage{Platform: pAmd64, Image: amd}, manifest.PlatformImage{Platform: pArm64, Image: arm}), amd, arm)
	push(t, first, tag, pushOpts())
	got := remoteChildren(t, tag)
	if got["att:"+mustDigest(t, amd).String()] != mustDigest(t, atts[0]) || got["att:"+mustDigest(t, arm).String()] != mustDigest(t, atts[1]) || len(got) != 4 {
		t.Fatalf("first push: remote %v", got)
	}
	assertComplete(t, tag)

	// Another host replaces arm64 (without attestations): the old arm64
	// attestation goes, the amd64 one (its image is kept) stays.
	res := push(t, index(t, manifest.PlatformImage{Platform: pArm64, Image: arm2}), tag, pushOpts())
	got = remoteChildren(t, tag)
	want := map[string]v1.Hash{
		"linux/amd64":                        mustDigest(t, amd),
		"linux/arm64":                        mustDigest(t, arm2),
		"att:" + mustDigest(t, amd).String(): mustDigest(t, atts[0]),
	}
	if len(got) != len(want) {
		t.Fatalf("after replacing arm64: remote %v, want %v", got, want)
	}
	for k, d := range want {
		if got[k] != d {
			t.Errorf("%s: %s, want %s", k, got[k], d)
		}
	}
	if !slices.Equal(res.Platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("platforms %v", res.Platforms)
	}
	assertComplete(t, tag)
}

func TestPushReleaseTag(t *testing.T) {
	testenv.Integration(t)
	host := testenv.Registry(t)
	tag := tagOf(t, host, "lkpkg/rel:abc")
	idx1 := index(t, manifest.PlatformImage{Platform: pAmd64, Image: platImage(t, pAmd64, 1024, 1)})
	idx2 := index(t, manifest.PlatformImage{Platform: pAmd64, Image: platImage(t, pAmd64, 1024, 1)})
	d1, d2 := mustDigest(t, idx1), mustDigest(t, idx2)
	release := tag.Context().Tag("v1.2.0")
	for _, s := range []struct {
		name    string
		idx     v1.ImageIndex
		force   bool
		wantErr bool
		want    v1.Hash // release tag afterwards
		wantTag v1.Hash // main tag afterwards
	}{
		{"first time", idx1, false, false, d1, d1},
		{"same content again", idx1, false, false, d1, d1},
		{"other content refused", idx2, false, true, d1, d1},
		{"other content with force", idx2, true, false, d2, d2},
	} {
		t.Run(s.name, func(t *testing.T) {
			o := pushOpts()
			o.Release, o.Force = "v1.2.0", s.force
			_, err := manifest.Push(context.Background(), s.idx, tag, o)
			if s.wantErr {
				if err == nil {
					t.Fatal("moving the release tag to other content was accepted")
				}
				if !strings.Contains(err.Error(), d1.String()) || !strings.Contains(err.Error(), d2.String()) {
					t.Errorf("error does not name old and new digests: %v", err)
				}
				t.Logf("refused: %v", err)
			} else if err != nil {
				t.Fatal(err)
			}
			if got := remoteDigest(t, release); got != s.want {
				t.Errorf("release tag at %s, want %s", got, s.want)
			}
			if got := remoteDigest(t, tag); got != s.wantTag {
				t.Errorf("tag at %s, want %s", got, s.wantTag)
			}
		})
	}
}

func TestPushInsecure(t *testing.T) {
	testenv.Integration(t)
	idx := index(t, manifest.PlatformImage{Platform: pAmd64, Image: platImage(t, pAmd64, 256, 1)})
	for _, host := range []string{"registry.example.com", "registry.example.com:5000", "10.0.0.7:5000", "192.168.1.2", "myhost.local:5000", "[fe80::1]:5000"} {
		t.Run("refused/"+host, func(t *testing.T) {
			o := pushOpts()
			o.Registry.Transport = failTransport{t}
			_, err := manifest.Push(context.Background(), idx, tagOf(t, host, "x/y:1"), o)
			if err == nil || !strings.Contains(err.Error(), "loopback") {
				t.Fatalf("insecure push to %s: %v", host, err)
			}
		})
	}
	t.Run("plain HTTP needs Insecure", func(t *testing.T) {
		host := testenv.Registry(t)
		o := pushOpts()
		o.Registry.Insecure = false
		_, err := manifest.Push(context.Background(), idx, tagOf(t, host, "x/y:1"), o)
		if err == nil || !strings.Contains(err.Error(), "plain HTTP") {
			t.Fatalf("push over plain HTTP without Insecure: %v", err)
		}
		t.Logf("refused: %v", err)
	})
}

type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("request sent: %s %s", r.Method, r.URL)
	return nil, errors.New("no network in this test")
}

func TestPushAuthFromDockerConfig(t *testing.T) {
	testenv.Integration(t)
	host := testenv.AuthRegistry(t, "lk", "s3cret")
	idx := index(t, manifest.PlatformImage{Platform: pAmd64, Image: platImage(t, pAmd64, 1024, 1)})
	tag := tagOf(t, host, "lkpkg/auth:1")
	for _, c := range []struct {
		name, auth string
		ok         bool
	}{
		{"no credentials", "", false},
		{"wrong password", "lk:nope", false},
		{"docker config.json", "lk:s3cret", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := `{"auths":{}}`
			if c.auth != "" {
				cfg = fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, base64.StdEncoding.EncodeToString([]byte(c.auth)))
			}
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("DOCKER_CONFIG", dir)
			o := pushOpts()
			o.Registry.Keychain = nil // authn.DefaultKeychain
			res, err := manifest.Push(context.Background(), idx, tag, o)
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				if res.Digest != mustDigest(t, idx) {
					t.Errorf("pushed %s", res.Digest)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "401") && !strings.Contains(strings.ToUpper(err.Error()), "UNAUTHORIZED") {
				t.Fatalf("push without valid credentials: %v", err)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// counter counts the requests a plan has seen matching a predicate.
type counter struct{ n atomic.Int64 }

func (c *counter) next() int64 { return c.n.Add(1) }

func isBlobPatch(r *http.Request) bool {
	return r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/blobs/uploads/")
}

// shortTimeout is a transport that turns a stalled answer into a
// timeout (retried) after 300 ms.
func shortTimeout() http.RoundTripper {
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 300 * time.Millisecond
	return tr
}

// pushFault is one case of TestPushFaults: what the fault proxy does to
// which requests, and whether the push must still succeed.
type pushFault struct {
	name      string
	existing  bool // the tag holds oldIdx before
	plan      func(c *counter) func(*http.Request, int) testenv.Fault
	transport func() http.RoundTripper
	timeout   time.Duration
	wantErr   bool
}

func pushFaults() []pushFault {
	return []pushFault{
		{
			name: "500 on some blob uploads",
			plan: func(c *counter) func(*http.Request, int) testenv.Fault {
				return func(r *http.Request, _ int) testenv.Fault {
					if isBlobPatch(r) {
						if n := c.next(); n == 1 || n == 3 || n == 4 {
							return testenv.Fail500
						}
					}
					return testenv.Pass
				}
			},
		},
		{
			name: "429 on manifest PUTs and blob HEADs",
			plan: func(c *counter) func(*http.Request, int) testenv.Fault {
				return func(r *http.Request, n int) testenv.Fault {
					if (r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") || r.Method == http.MethodHead) && n%3 == 0 {
						return testenv.Fail429
					}
					return testenv.Pass
				}
			},
		},
		{
			name:      "stalls on some requests are retried",
			transport: shortTimeout,
			plan: func(c *counter) func(*http.Request, int) testenv.Fault {
				return func(r *http.Request, _ int) testenv.Fault {
					if isBlobPatch(r) || r.Method == http.MethodHead {
						if n := c.next(); n == 2 || n == 5 {
							return testenv.Stall
						}
					}
					return testenv.Pass
				}
			},
		},
		{
			name:      "persistent stall fails within the deadline",
			transport: shortTimeout,
			timeout:   5 * time.Second,
			wantErr:   true,
			plan: func(c *counter) func(*http.Request, int) testenv.Fault {
				return func(r *http.Request, _ int) testenv.Fault {
					if isBlobPatch(r) {
						return testenv.Stall
					}
					return testenv.Pass
				}
			},
		},
		{
			name:    "stall with only a context deadline",
			timeout: 2 * time.Second,
			wantErr: true,
			plan: func(c *counter) func(*http.Request, int) testenv.Fault {
				return func(r *http.Request, _ int) testenv.Fault {
					if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
						return testenv.Stall
					}
					return testenv.Pass
				}
			},
		},
		{
			name:    "persistent 500 on the index PUT, new tag",
			wantErr: true,
			plan:    indexPut500,
		},
		{
			name:     "persistent 500 on the index PUT, existing tag",
			existing: true,
			wantErr:  true,
			plan:     indexPut500,
		},
	}
}

func TestPushFaults(t *testing.T) {
	testenv.Integration(t)
	host := testenv.Registry(t)
	amd, arm, idx := twoArch(t, platImage(t, pAmd64, 8192, 2), pArm64, platImage(t, pArm64, 8192, 2))
	nBlobs, nBytes := blobStats(t, amd, arm)
	oldIdx := index(t, manifest.PlatformImage{Platform: pAmd64, Image: platImage(t, pAmd64, 1024, 1)})

	cases := pushFaults()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tag := tagOf(t, host, fmt.Sprintf("lkpkg/fault%d:1", i))
			var before v1.Hash
			if c.existing {
				before = push(t, oldIdx, tag, pushOpts()).Digest
			}
			var cnt counter
			proxy := testenv.FaultProxy(t, host, c.plan(&cnt))
			ptag := tagOf(t, proxy, tag.Context().RepositoryStr()+":"+tag.TagStr())
			o := pushOpts()
			if c.transport != nil {
				o.Registry.Transport = c.transport()
			}
			ctx := context.Background()
			if c.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
				defer cancel()
			}
			start := time.Now()
			res, err := manifest.Push(ctx, idx, ptag, o)
			took := time.Since(start)
			t.Logf("took %s, result %+v, err %v", took, res, err)
			if took > 30*time.Second {
				t.Errorf("push took %s", took)
			}
			if !c.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				want := mustDigest(t, idx)
				if res.Digest != want || remoteDigest(t, tag) != want {
					t.Fatalf("pushed %s, registry has %s, want %s", res.Digest, remoteDigest(t, tag), want)
				}
				if res.UploadedBlobs != nBlobs || res.UploadedBytes < nBytes {
					t.Errorf("uploaded %d blobs, %d bytes; want %d blobs, >= %d bytes", res.UploadedBlobs, res.UploadedBytes, nBlobs, nBytes)
				}
				assertComplete(t, tag)
				return
			}
			if err == nil {
				t.Fatal("push succeeded despite persistent faults")
			}
			if c.timeout > 0 && took > c.timeout+5*time.Second {
				t.Errorf("failing push took %s with a %s deadline", took, c.timeout)
			}
			// The tag, checked on the registry itself, is untouched and complete.
			if got := remoteDigest(t, tag); got != before {
				t.Fatalf("tag now at %s, want %s (before the push)", got, before)
			}
			if before != (v1.Hash{}) {
				assertComplete(t, tag)
			}
			// Any per-arch tag that got pushed points at a complete image.
			for _, s := range []string{"1-amd64", "1-arm64"} {
				if at := tag.Context().Tag(s); remoteDigest(t, at) != (v1.Hash{}) {
					assertComplete(t, at)
				}
			}
		})
	}
}

func indexPut500(_ *counter) func(*http.Request, int) testenv.Fault {
	return func(r *http.Request, _ int) testenv.Fault {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/1") {
			return testenv.Fail500
		}
		return testenv.Pass
	}
}

// benchIndex is a 2-arch index of about mb MB of incompressible blobs.
func benchIndex(b *testing.B, mb int) v1.ImageIndex {
	var imgs []manifest.PlatformImage
	for _, p := range []v1.Platform{pAmd64, pArm64} {
		img := empty.Image
		for range 2 {
			data := make([]byte, mb<<20/4)
			rand.Read(data)
			var err error
			if img, err = mutate.AppendLayers(img, static.NewLayer(data, types.DockerLayer)); err != nil {
				b.Fatal(err)
			}
		}
		cf, err := img.ConfigFile()
		if err != nil {
			b.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = p.OS, p.Architecture
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			b.Fatal(err)
		}
		imgs = append(imgs, manifest.PlatformImage{Platform: p, Image: img})
	}
	return index(b, imgs...)
}

func BenchmarkPush(b *testing.B) {
	testenv.Integration(b)
	host := testenv.Registry(b)
	idx := benchIndex(b, 20)
	b.ResetTimer()
	for i := range b.N {
		tag := tagOf(b, host, fmt.Sprintf("bench/push%d-%d:1", b.N, i))
		res := push(b, idx, tag, pushOpts())
		fmt.Printf("BENCH first push: %.1f MB in %.2f s (%d blobs)\n", float64(res.UploadedBytes)/1e6, res.Duration.Seconds(), res.UploadedBlobs)
		res2 := push(b, idx, tag, pushOpts())
		fmt.Printf("BENCH second push (unchanged): %d bytes in %.2f s (%d blobs already there)\n", res2.UploadedBytes, res2.Duration.Seconds(), res2.ExistingBlobs)
		if res2.UploadedBytes != 0 {
			b.Fatalf("unchanged re-push uploaded %d bytes", res2.UploadedBytes)
		}
		b.SetBytes(res.UploadedBytes)
	}
}
