package attest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

const (
	alpineDigest = "sha256:c5b1261d6d3e43071626931fc004f70149baeba2c8ec672bd4f27761f8e1ad6b"
	helloDigest  = "4b7ce07a2a2c1f6e3a5d5f4d4e1b3c2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c"
)

func testBuild() Build {
	return Build{
		BuilderID: "https://github.com/lkpkg/lkpkg/pkgbuild@lkpkg-build-v2",
		BuildType: "https://lkpkg.dev/build/v1",
		Package:   "pkgs/dhcpcd",
		Tag:       "0123456789abcdef0123456789abcdef01234567",
		Inputs:    []byte("format lkpkg-build-v2\nfile Dockerfile 0123\n"),
		BuildArgs: map[string]string{"ZED": "1", "ALPHA": "2", "MID": "3"},
		Platforms: []string{"linux/arm64", "linux/amd64"},
		Bases: map[string]string{
			"lkpkg/minirootfs:abc":                     "sha256:" + helloDigest,
			"docker.io/library/alpine:3.19":            alpineDigest,
			"registry.example/zz/base@" + alpineDigest: alpineDigest,
		},
		SourceDateEpoch: 1704067200, // 2024-01-01T00:00:00Z
		Network:         false,
	}
}

type provenanceDoc struct {
	BuildDefinition struct {
		BuildType          string `json:"buildType"`
		ExternalParameters struct {
			Package   string            `json:"package"`
			Tag       string            `json:"tag"`
			Platforms []string          `json:"platforms"`
			BuildArgs map[string]string `json:"buildArgs"`
			Network   *bool             `json:"network"`
		} `json:"externalParameters"`
		InternalParameters struct {
			SourceDateEpoch int64 `json:"sourceDateEpoch"`
		} `json:"internalParameters"`
		ResolvedDependencies []struct {
			URI    string            `json:"uri"`
			Digest map[string]string `json:"digest"`
		} `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
		Metadata struct {
			InvocationID string `json:"invocationId"`
			StartedOn    string `json:"startedOn"`
			FinishedOn   string `json:"finishedOn"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

func TestProvenance(t *testing.T) {
	b := testBuild()
	out, err := Provenance(b)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) {
		t.Fatalf("not JSON:\n%s", out)
	}
	var p provenanceDoc
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	bd, rd := p.BuildDefinition, p.RunDetails
	if bd.BuildType != b.BuildType || rd.Builder.ID != b.BuilderID {
		t.Errorf("buildType %q, builder %q", bd.BuildType, rd.Builder.ID)
	}
	ep := bd.ExternalParameters
	if ep.Package != "pkgs/dhcpcd" || ep.Tag != b.Tag || ep.Network == nil || *ep.Network ||
		strings.Join(ep.Platforms, ",") != "linux/amd64,linux/arm64" || len(ep.BuildArgs) != 3 || ep.BuildArgs["ZED"] != "1" {
		t.Errorf("externalParameters = %+v", ep)
	}
	if bd.InternalParameters.SourceDateEpoch != 1704067200 {
		t.Errorf("sourceDateEpoch = %d", bd.InternalParameters.SourceDateEpoch)
	}
	if rd.Metadata.StartedOn != "2024-01-01T00:00:00Z" || rd.Metadata.FinishedOn != "2024-01-01T00:00:00Z" {
		t.Errorf("metadata = %+v", rd.Metadata)
	}
	if rd.Metadata.InvocationID == "" || !strings.Contains(rd.Metadata.InvocationID, b.Tag) {
		t.Errorf("invocationId %q: want derived from the tag", rd.Metadata.InvocationID)
	}

	deps := bd.ResolvedDependencies
	if len(deps) != 4 {
		t.Fatalf("%d resolvedDependencies, want 3 bases + inputs", len(deps))
	}
	if !sort.SliceIsSorted(deps, func(i, j int) bool { return deps[i].URI < deps[j].URI }) {
		t.Errorf("resolvedDependencies not sorted by uri: %+v", deps)
	}
	sum := sha256.Sum256(b.Inputs)
	want := map[string]string{
		"lkpkg:inputs":                             hex.EncodeToString(sum[:]),
		"lkpkg/minirootfs:abc":                     helloDigest,
		"docker.io/library/alpine:3.19":            strings.TrimPrefix(alpineDigest, "sha256:"),
		"registry.example/zz/base@" + alpineDigest: strings.TrimPrefix(alpineDigest, "sha256:"),
	}
	for _, d := range deps {
		if len(d.Digest) != 1 || d.Digest["sha256"] != want[d.URI] {
			t.Errorf("dependency %s: digest %v, want {sha256: %s}", d.URI, d.Digest, want[d.URI])
		}
		if h := d.Digest["sha256"]; strings.Contains(h, ":") || len(h) != 64 {
			t.Errorf("dependency %s: digest %q is not bare hex", d.URI, h)
		}
	}

	// Deterministic: again, and with maps rebuilt in another order.
	for i := 0; i < 20; i++ {
		b2 := testBuild()
		b2.BuildArgs = map[string]string{}
		for _, k := range []string{"MID", "ALPHA", "ZED"} {
			b2.BuildArgs[k] = b.BuildArgs[k]
		}
		again, err := Provenance(b2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("Provenance is not deterministic:\n%s\n---\n%s", out, again)
		}
	}
	// The caller's slice is not reordered.
	if b.Platforms[0] != "linux/arm64" {
		t.Error("Provenance sorted the caller's Platforms")
	}
	// Keys come out sorted.
	if i, j := bytes.Index(out, []byte(`"ALPHA"`)), bytes.Index(out, []byte(`"ZED"`)); i < 0 || j < i {
		t.Error("buildArgs keys not sorted")
	}

	// A different tag changes the document.
	b3 := testBuild()
	b3.Tag = strings.Repeat("f", 40)
	other, err := Provenance(b3)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(out, other) {
		t.Error("different tags, same provenance")
	}
}

func TestProvenanceEmpty(t *testing.T) {
	// nil and empty collections render the same: [] and {}, never null.
	b := testBuild()
	b.BuildArgs, b.Platforms, b.Bases = nil, nil, nil
	out1, err := Provenance(b)
	if err != nil {
		t.Fatal(err)
	}
	b.BuildArgs, b.Platforms, b.Bases = map[string]string{}, []string{}, map[string]string{}
	out2, err := Provenance(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out1, out2) {
		t.Error("nil and empty collections give different provenance")
	}
	if bytes.Contains(out1, []byte("null")) {
		t.Errorf("null in provenance:\n%s", out1)
	}
	var p provenanceDoc
	if err := json.Unmarshal(out1, &p); err != nil {
		t.Fatal(err)
	}
	if d := p.BuildDefinition.ResolvedDependencies; len(d) != 1 || d[0].URI != InputsURI {
		t.Errorf("resolvedDependencies = %+v, want only %s", d, InputsURI)
	}
}

func TestProvenanceErrors(t *testing.T) {
	for name, mod := range map[string]func(*Build){
		"no builder":     func(b *Build) { b.BuilderID = "" },
		"no build type":  func(b *Build) { b.BuildType = "" },
		"no package":     func(b *Build) { b.Package = "" },
		"no tag":         func(b *Build) { b.Tag = "" },
		"negative epoch": func(b *Build) { b.SourceDateEpoch = -1 },
		"short digest":   func(b *Build) { b.Bases = map[string]string{"x": "sha256:abc"} },
		"non-hex digest": func(b *Build) { b.Bases = map[string]string{"x": "sha256:" + strings.Repeat("g", 64)} },
		"unknown alg":    func(b *Build) { b.Bases = map[string]string{"x": "md5:" + strings.Repeat("a", 32)} },
		"empty base ref": func(b *Build) { b.Bases = map[string]string{"": alpineDigest} },
		"empty digest":   func(b *Build) { b.Bases = map[string]string{"x": ""} },
	} {
		b := testBuild()
		mod(&b)
		if _, err := Provenance(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSplitDigest(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for in, want := range map[string]string{
		"sha256:" + h:                        "sha256 " + h,
		h:                                    "sha256 " + h,
		"SHA256:" + strings.ToUpper(h):       "sha256 " + h,
		"alpine@sha256:" + h:                 "sha256 " + h,
		"sha512:" + strings.Repeat("cd", 64): "sha512 " + strings.Repeat("cd", 64),
	} {
		alg, hx, err := splitDigest(in)
		if err != nil || alg+" "+hx != want {
			t.Errorf("splitDigest(%q) = %s %s %v, want %s", in, alg, hx, err, want)
		}
	}
}
