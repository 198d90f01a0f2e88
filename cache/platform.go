package cache

import (
	"bytes"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// platformText is what a platform label may hold: os/arch/variant in
// the characters platforms are spelled with, so a crafted descriptor or
// config cannot add lines or columns to `cache ls`.
var platformText = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`)

// PlatformLabel names what an entry holds for `cache ls`: its platform;
// "index" for an index without one (a multi-platform image); for an image
// manifest recorded without one, the platform its config gives; "unknown"
// when that cannot be read or is not a plain platform name.
func (c *Cache) PlatformLabel(d v1.Descriptor) string {
	p := d.Platform
	if p == nil {
		if d.MediaType.IsIndex() {
			return "index"
		}
		p = c.configPlatform(d.Digest)
	}
	if p == nil {
		return "unknown"
	}
	if s := p.String(); platformText.MatchString(s) {
		return s
	}
	return "unknown"
}

// configPlatform is the platform in the config of image manifest h, or nil.
// Manifest and config are read only up to maxManifestSize: either could
// come from an imported tar.
func (c *Cache) configPlatform(h v1.Hash) *v1.Platform {
	b, err := readManifestFile(c.blobPath(h), h)
	if err != nil {
		return nil
	}
	m, err := v1.ParseManifest(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	b, err = readManifestFile(c.blobPath(m.Config.Digest), m.Config.Digest)
	if err != nil {
		return nil
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	return cf.Platform()
}
