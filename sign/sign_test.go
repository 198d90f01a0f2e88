package sign

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lkpkg/lkpkg/registry"
	"github.com/lkpkg/lkpkg/sign/cosign"
	"github.com/lkpkg/lkpkg/sign/notation"
)

// The argument checks come before any registry access: these refs point
// at a port nothing listens on.
func TestIndexAndVerifyRefuseBadRequests(t *testing.T) {
	ctx := context.Background()
	ref, err := name.NewDigest("127.0.0.1:1/x@sha256:"+strings.Repeat("b", 64), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	remoteRef, err := name.NewDigest("registry.example.com/x@sha256:" + strings.Repeat("b", 64))
	if err != nil {
		t.Fatal(err)
	}
	attester := func(context.Context, v1.Platform, v1.Image) ([]Attestation, error) { return nil, nil }
	insecure := registry.Options{Insecure: true}
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"index without signers", func() error { _, err := Index(ctx, ref, Signers{}, nil, insecure, nil); return err }, "nothing to sign with"},
		{"attestations without cosign", func() error {
			_, err := Index(ctx, ref, Signers{Notation: &notation.Signer{}}, attester, insecure, nil)
			return err
		}, "attestations are signed with cosign"},
		{"index insecure to a remote host", func() error {
			_, err := Index(ctx, remoteRef, Signers{Cosign: &cosign.Signer{}}, nil, insecure, nil)
			return err
		}, "only allowed for loopback"},
		{"verify without policy", func() error { _, err := Verify(ctx, ref, Policy{}, insecure); return err }, "no verification policy"},
		{"required attestations without cosign key", func() error {
			_, err := Verify(ctx, ref, Policy{NotationPolicy: "p.json", NotationTrustStore: "s", RequireAttestations: []string{"x"}}, insecure)
			return err
		}, "verified with the cosign key"},
		{"notation policy without trust store", func() error {
			_, err := Verify(ctx, ref, Policy{NotationPolicy: "p.json"}, insecure)
			return err
		}, "needs its trust store"},
		{"verify insecure to a remote host", func() error {
			_, err := Verify(ctx, remoteRef, Policy{CosignPublicKey: []byte("k")}, insecure)
			return err
		}, "only allowed for loopback"},
		{"resolve insecure to a remote host", func() error {
			_, err := Resolve(ctx, "registry.example.com/x:1", insecure)
			return err
		}, "only allowed for loopback"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.err()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestResolveKeepsDigest(t *testing.T) {
	want := "127.0.0.1:1/x@sha256:" + strings.Repeat("c", 64)
	d, err := Resolve(context.Background(), want, registry.Options{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != want {
		t.Fatalf("Resolve(%s) = %s", want, d)
	}
}

// TestSignedChildren: what an index signature covers (its per-platform
// images, not attestation manifests), and after a merge only what this
// host pushed.
func TestSignedChildren(t *testing.T) {
	img := func() v1.Image {
		i, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	amd, arm, att, other := img(), img(), img(), img()
	add := func(idx v1.ImageIndex, i v1.Image, p *v1.Platform) v1.ImageIndex {
		return mutate.AppendManifests(idx, mutate.IndexAddendum{Add: i, Descriptor: v1.Descriptor{Platform: p}})
	}
	base := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	idx := add(add(add(base, amd, &v1.Platform{OS: "linux", Architecture: "amd64"}), arm, &v1.Platform{OS: "linux", Architecture: "arm64"}),
		att, &v1.Platform{OS: "unknown", Architecture: "unknown"})
	idx = add(idx, other, nil)
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range platformImages(im) {
		got = append(got, d.Platform.String())
	}
	if strings.Join(got, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("platformImages = %v, want linux/amd64 linux/arm64", got)
	}

	local := add(base, amd, &v1.Platform{OS: "linux", Architecture: "amd64"})
	only, err := imageDigests(local)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		img  v1.Image
		want bool
	}{{amd, true}, {arm, false}, {att, false}} {
		d, _ := c.img.Digest()
		if only[d] != c.want {
			t.Errorf("imageDigests[%s] = %v, want %v", d, only[d], c.want)
		}
	}
}
