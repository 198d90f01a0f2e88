package manifest_test

import (
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/manifest"
)

// pimg is the manifest.PlatformImage of img for p.
func pimg(p v1.Platform, img v1.Image) manifest.PlatformImage {
	return manifest.PlatformImage{Platform: p, Image: img}
}

func TestIndexIsOrderIndependent(t *testing.T) {
	a, b := platImage(t, pAmd64, 32, 1), platImage(t, pArm64, 32, 1)
	i1 := index(t, pimg(pAmd64, a), pimg(pArm64, b))
	i2 := index(t, pimg(pArm64, b), pimg(pAmd64, a))
	if mustDigest(t, i1) != mustDigest(t, i2) {
		t.Fatal("the same images in another order gave another index")
	}
	im, _ := i1.IndexManifest()
	if im.MediaType != "application/vnd.oci.image.index.v1+json" || len(im.Manifests) != 2 || im.Manifests[0].Platform.Architecture != "amd64" {
		t.Fatalf("index manifest %+v", im)
	}
	if _, err := manifest.Index([]manifest.PlatformImage{pimg(pAmd64, a), pimg(pAmd64, b)}); err == nil {
		t.Fatal("two images for one platform accepted")
	}
}

func TestMergeNewWinsPerPlatform(t *testing.T) {
	oldAmd, oldArm, newArm, rv := platImage(t, pAmd64, 32, 1), platImage(t, pArm64, 32, 1), platImage(t, pArm64, 32, 1), platImage(t, pRiscv64, 32, 1)
	merged, err := manifest.Merge(index(t, pimg(pAmd64, oldAmd), pimg(pArm64, oldArm)), []manifest.PlatformImage{pimg(pArm64, newArm), pimg(pRiscv64, rv)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := manifest.Platforms(merged)
	if want := []string{"linux/amd64", "linux/arm64", "linux/riscv64"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("platforms %v, %v; want %v", got, err, want)
	}
	imgs, _ := manifest.Images(merged)
	for _, pi := range imgs {
		d, _ := pi.Image.Digest()
		var want v1.Image
		switch pi.Platform.Architecture {
		case "amd64":
			want = oldAmd
		case "arm64":
			want = newArm
		case "riscv64":
			want = rv
		}
		if wd, _ := want.Digest(); wd != d {
			t.Errorf("%s: got %s, want %s", pi.Platform, d, wd)
		}
	}
	fresh, _ := manifest.Merge(nil, []manifest.PlatformImage{pimg(pAmd64, oldAmd)})
	if p, _ := manifest.Platforms(fresh); !reflect.DeepEqual(p, []string{"linux/amd64"}) {
		t.Fatalf("merge into nothing: %v", p)
	}
}
