package manifest

import (
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(32, 1)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64"}
	rv64  = v1.Platform{OS: "linux", Architecture: "riscv64"}
)

func digest(t *testing.T, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestIndexIsOrderIndependent(t *testing.T) {
	a, b := randomImage(t), randomImage(t)
	i1, err := Index([]PlatformImage{{amd64, a}, {arm64, b}})
	if err != nil {
		t.Fatal(err)
	}
	i2, err := Index([]PlatformImage{{arm64, b}, {amd64, a}})
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, i1) != digest(t, i2) {
		t.Fatal("the same images in another order gave another index")
	}
	im, _ := i1.IndexManifest()
	if im.MediaType != "application/vnd.oci.image.index.v1+json" || len(im.Manifests) != 2 || im.Manifests[0].Platform.Architecture != "amd64" {
		t.Fatalf("index manifest %+v", im)
	}
	if _, err := Index([]PlatformImage{{amd64, a}, {amd64, b}}); err == nil {
		t.Fatal("two images for one platform accepted")
	}
}

func TestMergeNewWinsPerPlatform(t *testing.T) {
	oldAmd, oldArm, newArm, rv := randomImage(t), randomImage(t), randomImage(t), randomImage(t)
	base, err := Index([]PlatformImage{{amd64, oldAmd}, {arm64, oldArm}})
	if err != nil {
		t.Fatal(err)
	}
	merged, err := Merge(base, []PlatformImage{{arm64, newArm}, {rv64, rv}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Platforms(merged)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"linux/amd64", "linux/arm64", "linux/riscv64"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("platforms %v, want %v", got, want)
	}
	imgs, _ := Images(merged)
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
	fresh, _ := Merge(nil, []PlatformImage{{amd64, oldAmd}})
	if p, _ := Platforms(fresh); !reflect.DeepEqual(p, []string{"linux/amd64"}) {
		t.Fatalf("merge into nothing: %v", p)
	}
}
