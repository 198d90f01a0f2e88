package cache

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	refNameAnnotation   = "org.opencontainers.image.ref.name"
	imageNameAnnotation = "io.containerd.image.name" // set by buildkit/containerd exporters
)

// readIndex parses index.json. Readers need no lock: it is only ever
// replaced by rename.
func (c *Cache) readIndex() (*v1.IndexManifest, error) {
	p := c.path(indexFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("cache: reading %s: %w", p, err)
	}
	im, err := parseIndex(b)
	if err != nil {
		return nil, fmt.Errorf("cache: invalid %s: %w", p, err)
	}
	return im, nil
}

func parseIndex(b []byte) (*v1.IndexManifest, error) {
	var im v1.IndexManifest
	if err := json.Unmarshal(b, &im); err != nil {
		return nil, err
	}
	if im.SchemaVersion != 2 {
		return nil, fmt.Errorf("schemaVersion is %d, want 2", im.SchemaVersion)
	}
	if im.MediaType != "" && !im.MediaType.IsIndex() {
		return nil, fmt.Errorf("mediaType is %q, want %s", im.MediaType, types.OCIImageIndex)
	}
	return &im, nil
}

// encodeIndex renders entries deterministically: sorted, indented.
func encodeIndex(entries []v1.Descriptor) ([]byte, error) {
	sorted := append([]v1.Descriptor{}, entries...) // never nil: "manifests": [] not null
	sortEntries(sorted)
	b, err := json.MarshalIndent(v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests:     sorted,
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cache: encoding %s: %w", indexFile, err)
	}
	return append(b, '\n'), nil
}

// writeIndex atomically replaces index.json. The caller holds the lock and
// has already made every referenced blob durable.
func (c *Cache) writeIndex(entries []v1.Descriptor) error {
	b, err := encodeIndex(entries)
	if err != nil {
		return err
	}
	return c.replaceFile(indexFile, b)
}

func sortEntries(entries []v1.Descriptor) {
	sort.SliceStable(entries, func(i, j int) bool {
		ri, rj := refOf(entries[i]), refOf(entries[j])
		if ri != rj {
			return ri < rj
		}
		return entries[i].Digest.String() < entries[j].Digest.String()
	})
}

func refOf(d v1.Descriptor) string { return d.Annotations[refNameAnnotation] }

// normRef makes "alpine" and "index.docker.io/library/alpine:latest" compare
// equal; strings that are not references compare as they are.
func normRef(s string) string {
	r, err := name.ParseReference(s, name.WeakValidation)
	if err != nil {
		return s
	}
	return r.Name()
}

func sameRef(a, b string) bool { return a == b || normRef(a) == normRef(b) }

// findRef returns the entry named ref.
func findRef(entries []v1.Descriptor, ref string) (v1.Descriptor, bool) {
	for _, d := range entries {
		if r := refOf(d); r != "" && sameRef(r, ref) {
			return d, true
		}
	}
	return v1.Descriptor{}, false
}

// platformSuffix names a per-arch child entry: "amd64", "arm64v8".
func platformSuffix(p *v1.Platform) string { return p.Architecture + p.Variant }

// childEntries are the per-platform entries recorded beside an index named
// ref. Attestation manifests (platform unknown/unknown) get none.
func childEntries(ref string, im *v1.IndexManifest) []v1.Descriptor {
	var out []v1.Descriptor
	seen := map[string]bool{}
	for _, d := range im.Manifests {
		p := d.Platform
		if p == nil || p.OS == "unknown" || p.Architecture == "" || !d.MediaType.IsImage() {
			continue
		}
		s := platformSuffix(p)
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, v1.Descriptor{
			MediaType:   d.MediaType,
			Size:        d.Size,
			Digest:      d.Digest,
			Platform:    p,
			Annotations: map[string]string{refNameAnnotation: ref + "-" + s},
		})
	}
	return out
}

// namesOf returns the normalised names owned by the entry named ref: the
// ref itself plus, for an index, its per-arch children. It reads the index
// blob; if that is unreadable only ref itself is returned.
func (c *Cache) namesOf(entries []v1.Descriptor, ref string) map[string]bool {
	names := map[string]bool{normRef(ref): true}
	d, ok := findRef(entries, ref)
	if !ok || !d.MediaType.IsIndex() {
		return names
	}
	b, err := c.readBlob(d.Digest)
	if err != nil {
		return names
	}
	var im v1.IndexManifest
	if json.Unmarshal(b, &im) != nil {
		return names
	}
	for _, ch := range childEntries(refOf(d), &im) {
		names[normRef(refOf(ch))] = true
	}
	return names
}

// dropNames removes entries whose normalised ref is in names.
func dropNames(entries []v1.Descriptor, names map[string]bool) []v1.Descriptor {
	var out []v1.Descriptor
	for _, d := range entries {
		if r := refOf(d); r != "" && names[normRef(r)] {
			continue
		}
		out = append(out, d)
	}
	return out
}

// replaceEntries drops existing entries (and their per-arch children) named
// like any of add, then appends add. Caller holds the lock.
func (c *Cache) replaceEntries(add []v1.Descriptor) error {
	im, err := c.readIndex()
	if err != nil {
		return err
	}
	entries := im.Manifests
	drop := map[string]bool{}
	for _, d := range add {
		for n := range c.namesOf(entries, refOf(d)) {
			drop[n] = true
		}
	}
	entries = append(dropNames(entries, drop), add...)
	return c.writeIndex(entries)
}
