package cache

import (
	"context"
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestWriteIndexReadBack(t *testing.T) {
	ctx := context.Background()
	c := openTest(t)
	idx := newTestIndex(t)
	const ref = "lkpkg/init:abc123"
	desc := writeIndex(t, c, ref, idx)
	want := digestOf(t, idx)
	if desc.Digest != want {
		t.Fatalf("WriteIndex digest = %s, want %s", desc.Digest, want)
	}
	childDigest := map[string]v1.Hash{}
	for _, d := range must(idx.IndexManifest())(t).Manifests {
		childDigest[d.Platform.Architecture] = d.Digest
	}

	t.Run("resolve", func(t *testing.T) {
		tests := []struct {
			ref    string
			want   v1.Hash
			wantOK bool
		}{
			{ref, want, true},
			{"docker.io/lkpkg/init:abc123", want, true},
			{"index.docker.io/lkpkg/init:abc123", want, true},
			{ref + "-amd64", childDigest["amd64"], true},
			{ref + "-arm64v8", childDigest["arm64"], true},
			{ref + "-arm64", v1.Hash{}, false},
			{"lkpkg/init:other", v1.Hash{}, false},
		}
		for _, tt := range tests {
			d, ok, err := c.Resolve(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK || d.Digest != tt.want {
				t.Errorf("Resolve(%q) = %s, %v; want %s, %v", tt.ref, d.Digest, ok, tt.want, tt.wantOK)
			}
		}
	})

	t.Run("per-arch entries carry platform", func(t *testing.T) {
		for _, tt := range []struct {
			ref  string
			want v1.Platform
		}{{ref + "-amd64", amd64}, {ref + "-arm64v8", arm64v8}} {
			d, _, _ := c.Resolve(tt.ref)
			if d.Platform == nil || !d.Platform.Equals(tt.want) {
				t.Errorf("%s platform = %v, want %v", tt.ref, d.Platform, tt.want)
			}
		}
	})

	t.Run("image index", func(t *testing.T) {
		got, err := c.ImageIndex(ref)
		if err != nil {
			t.Fatal(err)
		}
		if d := digestOf(t, got); d != want {
			t.Errorf("ImageIndex digest = %s, want %s", d, want)
		}
		checkIndex(t, got)
		byDigest, err := c.IndexByDigest(want)
		if err != nil {
			t.Fatal(err)
		}
		if d := digestOf(t, byDigest); d != want {
			t.Errorf("IndexByDigest = %s, want %s", d, want)
		}
	})

	t.Run("image by platform", func(t *testing.T) {
		tests := []struct {
			ref      string
			platform v1.Platform
			want     v1.Hash
		}{
			{ref, amd64, childDigest["amd64"]},
			{ref, arm64v8, childDigest["arm64"]},
			{ref, arm64, childDigest["arm64"]}, // no variant asked: any variant fits
			{ref + "-amd64", amd64, childDigest["amd64"]},
		}
		for _, tt := range tests {
			img, err := c.Image(tt.ref, tt.platform)
			if err != nil {
				t.Fatalf("Image(%s, %s): %v", tt.ref, &tt.platform, err)
			}
			if d := digestOf(t, img); d != tt.want {
				t.Errorf("Image(%s, %s) = %s, want %s", tt.ref, &tt.platform, d, tt.want)
			}
			checkImage(t, img)
		}
	})

	t.Run("errors", func(t *testing.T) {
		if _, err := c.ImageIndex("lkpkg/missing:1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("ImageIndex(missing) err = %v, want ErrNotFound", err)
		}
		if _, err := c.ImageIndex(ref + "-amd64"); err == nil {
			t.Error("ImageIndex on a per-arch image entry succeeded")
		}
		if _, err := c.Image(ref, v1.Platform{OS: "linux", Architecture: "s390x"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Image(s390x) err = %v, want ErrNotFound", err)
		}
		if _, err := c.IndexByDigest(childDigest["amd64"]); err == nil {
			t.Error("IndexByDigest on an image digest succeeded")
		}
	})

	if err := c.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWriteIndexReplacesRef(t *testing.T) {
	const ref = "lkpkg/sshd:v1"
	c := cacheWith(t, map[string]v1.ImageIndex{ref: newTestIndex(t), "lkpkg/other:v1": newTestIndex(t)})
	// The replacement is amd64-only and written under a differently
	// spelled but equal name: the old arm64 entry must go too.
	second := testIndex(t, child{amd64, testImage(t, amd64)})
	writeIndex(t, c, "docker.io/"+ref, second)
	d, ok, err := c.Resolve(ref)
	if err != nil || !ok {
		t.Fatalf("Resolve: %v %v", ok, err)
	}
	if want := digestOf(t, second); d.Digest != want {
		t.Errorf("Resolve after replace = %s, want %s", d.Digest, want)
	}
	entries, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, e := range entries {
		refs = append(refs, e.Ref)
	}
	want := []string{"docker.io/" + ref, "docker.io/" + ref + "-amd64", "lkpkg/other:v1", "lkpkg/other:v1-amd64", "lkpkg/other:v1-arm64v8"}
	if len(refs) != len(want) {
		t.Fatalf("List = %v, want %v", refs, want)
	}
	for i := range want {
		if refs[i] != want[i] {
			t.Fatalf("List = %v, want %v", refs, want)
		}
	}
}
