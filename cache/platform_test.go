package cache

import (
	"encoding/json"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestPlatformLabel(t *testing.T) {
	c := openTest(t)
	idx := testIndex(t, child{arm64v8, testImage(t, arm64v8)})
	writeIndex(t, c, "lkpkg/x:1", idx) // stores the index's blobs
	im := must(idx.IndexManifest())(t)
	manifest := im.Manifests[0]
	manifest.Platform = nil
	noPlatform := testImage(t, v1.Platform{})
	noPlatformDesc := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: digestOf(t, noPlatform)}
	writeIndex(t, c, "lkpkg/y:1", testIndex(t, child{v1.Platform{OS: "linux", Architecture: "amd64"}, noPlatform}))
	spoof := &v1.Platform{OS: "linux\nlkpkg/evil:1", Architecture: "amd64"}

	tests := []struct {
		name string
		d    v1.Descriptor
		want string
	}{
		{"index", v1.Descriptor{MediaType: types.OCIImageIndex, Digest: digestOf(t, idx)}, "index"},
		{"manifest with a platform", im.Manifests[0], "linux/arm64/v8"},
		{"manifest without a platform: its config's", manifest, "linux/arm64/v8"},
		{"config without a platform", noPlatformDesc, "unknown"},
		{"manifest not in the cache", v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: "00"}}, "unknown"},
		{"platform with a newline", v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: spoof}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.PlatformLabel(tt.d); got != tt.want {
				b, _ := json.Marshal(tt.d)
				t.Errorf("PlatformLabel(%s) = %q, want %q", b, got, tt.want)
			}
		})
	}
}
