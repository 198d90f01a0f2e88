package assemble

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/lkpkg/lkpkg/assemble/layer/layertest"
	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/internal/testenv"
	"github.com/lkpkg/lkpkg/registry"
	"github.com/lkpkg/lkpkg/sign"
	"github.com/lkpkg/lkpkg/sign/cosign"
)

// A cache-only image the policy covers is verified against the registry
// it is named after; unreachable means refused, before any output.
func TestTrustCacheOnlyUnreachableFailsClosed(t *testing.T) {
	c, _ := asmCache(t, "127.0.0.1:1/t/")
	keyDir := t.TempDir()
	_, pub, err := cosign.GenerateKeys(keyDir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	yamlPath, out := asmSetup(t, asmYAML("127.0.0.1:1/t/", "trust:\n  cosign:\n    - {match: \"127.0.0.1:1/t/*\", key: "+pub+"}\n"))
	_, err = Build(context.Background(), yamlPath, Options{Cache: c, OutputDir: out, Registry: registry.Options{Insecure: true}})
	if !errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
	outOnlyFiles(t, out) // none
	if _, err := os.Stat(LockPath(yamlPath)); !os.IsNotExist(err) {
		t.Errorf("lock written for unverified images: %v", err)
	}
	// trust.org without any cosign key or notation: refused, not ignored.
	yamlPath, out = asmSetup(t, asmYAML("127.0.0.1:1/t/", "trust:\n  org: [\"127.0.0.1:1/t\"]\n"))
	if _, err := Build(context.Background(), yamlPath, Options{Cache: c, OutputDir: out}); !errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "no cosign key") {
		t.Fatalf("org without keys: err = %v", err)
	}
}

func TestTrustRegistry(t *testing.T) {
	testenv.Integration(t)
	ctx := context.Background()
	reg := testenv.Registry(t)
	prefix := reg + "/t/"
	c, imgs, pub, wrongPub := trustSignedImages(t, ctx, prefix)
	trust := func(key string) string {
		return "trust:\n  cosign:\n    - {match: \"" + prefix + "*\", key: " + key + "}\n"
	}
	withOther := func(y string) string {
		return strings.Replace(y, "init:\n  - "+prefix+"init:v1\n", "init:\n  - "+prefix+"init:v1\n  - "+prefix+"other:v1\n", 1)
	}

	t.Run("signed", func(t *testing.T) {
		yamlPath, out := asmSetup(t, asmYAML(prefix, trust(pub)))
		var log bytes.Buffer
		res, err := Build(ctx, yamlPath, Options{Cache: c, OutputDir: out, Registry: registry.Options{Insecure: true}, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Verified) != 3 || len(asmOutFiles(t, out)) != 3 {
			t.Fatalf("verified %v, outputs %v\n%s", res.Verified, asmOutFiles(t, out), log.String())
		}
	})
	t.Run("global policy", func(t *testing.T) {
		yamlPath, out := asmSetup(t, asmYAML(prefix, ""))
		pem, _ := os.ReadFile(pub)
		res, err := Build(ctx, yamlPath, Options{Cache: c, OutputDir: out, Registry: registry.Options{Insecure: true}, Policy: &sign.Policy{CosignPublicKey: pem}})
		if err != nil || len(res.Verified) != 3 {
			t.Fatalf("%v %v", res, err)
		}
	})
	fail := []struct {
		name, yml string
	}{
		{"unsigned", withOther(asmYAML(prefix, trust(pub)))},
		{"wrong key", asmYAML(prefix, trust(wrongPub))},
	}
	for _, tc := range fail {
		t.Run(tc.name, func(t *testing.T) {
			yamlPath, out := asmSetup(t, tc.yml)
			_, err := Build(ctx, yamlPath, Options{Cache: c, OutputDir: out, Registry: registry.Options{Insecure: true}})
			if !errors.Is(err, ErrNotVerified) {
				t.Fatalf("err = %v", err)
			}
			outOnlyFiles(t, out) // none
		})
	}
	t.Run("insecure skip verify", func(t *testing.T) {
		yamlPath, out := asmSetup(t, withOther(asmYAML(prefix, trust(pub))))
		var log bytes.Buffer
		if _, err := Build(ctx, yamlPath, Options{Cache: c, OutputDir: out, Registry: registry.Options{Insecure: true}, InsecureSkipVerify: true, Log: &log}); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(log.String(), "WARNING"); n != 4 {
			t.Fatalf("%d WARNING lines, want one per image:\n%s", n, log.String())
		}
	})
	t.Run("tampered cache blob", func(t *testing.T) {
		// A second cache holding the signed images, one layer blob replaced.
		c2, err := cache.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		asmStore(t, c2, prefix, imgs)
		im, err := imgs.svc.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		img, err := imgs.svc.Image(im.Manifests[0].Digest)
		if err != nil {
			t.Fatal(err)
		}
		ls, _ := img.Layers()
		ld := asmDigest(t, ls[0])
		layertest.ReplaceBlob(t, c2.Dir(), ld, layertest.Blob(t, layertest.Tar(t, layertest.File("bin/svc", "evil"))))
		yamlPath, out := asmSetup(t, asmYAML(prefix, trust(pub)))
		_, err = Build(ctx, yamlPath, Options{Cache: c2, OutputDir: out, Registry: registry.Options{Insecure: true}})
		if !errors.Is(err, ErrLayerDigest) {
			t.Fatalf("err = %v", err)
		}
		outOnlyFiles(t, out) // none
	})
}

// A tag-scoped trust entry still covers the image when the YAML writes
// it as tag@digest.
func TestTrustImageTagCoversTagAtDigest(t *testing.T) {
	tr := &Trust{Image: []string{"linuxkit/kernel:6.6.71"}}
	dg := "@sha256:" + strings.Repeat("a", 64)
	for ref, want := range map[string]bool{
		"linuxkit/kernel:6.6.71":                true,
		"linuxkit/kernel:6.6.71" + dg:           true,
		"docker.io/linuxkit/kernel:6.6.71" + dg: true,
		"linuxkit/kernel:6.6.72" + dg:           false,
		"linuxkit/kernel:6.6.72":                false,
	} {
		if got := tr.Requires(ref); got != want {
			t.Errorf("Requires(%q) = %v, want %v", ref, got, want)
		}
	}
}

// trustSignedImages caches asmMakeImages' images under prefix and pushes
// them, cosign-signed, to the registry prefix names, with an unsigned
// "other:v1". It returns the cache, the images, the signing key's public
// key file and another key's.
func trustSignedImages(t *testing.T, ctx context.Context, prefix string) (*cache.Cache, asmImages, string, string) {
	t.Helper()
	c, imgs := asmCache(t, prefix)
	unsigned := asmIndex(t, asmImage(t, "", layertest.File("bin/other", "x")))
	if _, err := c.WriteIndex(ctx, prefix+"other:v1", unsigned); err != nil {
		t.Fatal(err)
	}

	keyDir := t.TempDir()
	t.Setenv("COSIGN_PASSWORD", "pw")
	priv, pub, err := cosign.GenerateKeys(keyDir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := cosign.LoadSigner(priv, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	wrongDir := t.TempDir()
	_, wrongPub, err := cosign.GenerateKeys(wrongDir, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	r := registry.Options{Insecure: true}
	for ref, idx := range map[string]v1.ImageIndex{"kernel:v1": imgs.kernel, "init:v1": imgs.init, "svc:v1": imgs.svc, "other:v1": unsigned} {
		tag, err := name.NewTag(prefix+ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(tag, idx, remote.WithContext(ctx)); err != nil {
			t.Fatal(err)
		}
		if ref == "other:v1" {
			continue
		}
		if _, err := sign.Index(ctx, tag.Context().Digest(asmDigest(t, idx).String()), sign.Signers{Cosign: signer}, nil, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	return c, imgs, pub, wrongPub
}
