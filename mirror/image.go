package mirror

import (
	"bytes"
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"gopkg.in/yaml.v3"

	"github.com/lkpkg/lkpkg/manifest"
)

// ImageFormat is mixed into the mirror image tag; bump it when the image
// layout changes.
const ImageFormat = "lkpkg-mirror-v3"

// DebianLayout and GoLayout name the layout of those sections' layers;
// change them when debroot's or gomod's output changes.
const (
	DebianLayout = "debroot-v1"
	GoLayout     = "gomod-v2"
)

// RepoDir is where the offline repository sits in the mirror image;
// /etc/apk/repositories names it, so `apk add --no-network` uses it.
const RepoDir = "/mirror"

// Tag is the mirror image's content tag: a hash of TagInputs.
func Tag(c *Config) (string, error) {
	in, err := TagInputs(c)
	if err != nil {
		return "", err
	}
	return tagOf(in), nil
}

// TagInputs lists what the tag hashes: the format, the timestamp clamp,
// the lock, the mirror's public key and each base root filesystem.
func TagInputs(c *Config) ([]byte, error) {
	lock, err := os.ReadFile(c.LockFile())
	if err != nil {
		return nil, fmt.Errorf("%s: %w (run `lkpkg mirror lock`)", c.LockFile(), err)
	}
	return tagInputs(c, lock)
}

// tagInputs is TagInputs for the given lock bytes. The lock is hashed
// without its rootfs: block, whose SHA-256s get lines of their own: the
// tag hashes what it hashed before root filesystems were pinned in the
// lock (they were files beside mirror.yml then).
func tagInputs(c *Config, lock []byte) ([]byte, error) {
	var pins struct {
		Rootfs map[string]LockedRootfs `yaml:"rootfs"`
	}
	if err := yaml.Unmarshal(lock, &pins); err != nil {
		return nil, fmt.Errorf("%s: %w", c.LockFile(), err)
	}
	l := &Lock{Rootfs: pins.Rootfs}
	var b bytes.Buffer
	fmt.Fprintf(&b, "format %s\nepoch %d\n", ImageFormat, c.Epoch())
	fmt.Fprintf(&b, "lock sha256:%s\n", sha256Hex(withoutRootfs(lock)))
	sources := c.Sources()
	for _, s := range sources {
		if err := s.writeTag(&b, l); err != nil {
			return nil, err
		}
	}
	for _, s := range sources {
		if err := s.writeTagTail(&b, l); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// withoutRootfs is a lock's bytes less its top-level rootfs: block.
func withoutRootfs(lock []byte) []byte {
	var out []byte
	skipping := false
	for _, line := range bytes.SplitAfter(lock, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("rootfs:")) {
			skipping = true
			continue
		}
		if skipping && (bytes.HasPrefix(line, []byte(" "))) {
			continue
		}
		skipping = false
		out = append(out, line...)
	}
	return out
}

// imageIndex builds the multi-arch mirror image: per arch, each source's
// layers in mirror.yml's order (see each source's layers method):
//   - Alpine: the base root filesystem and the offline repository;
//   - Debian: the root filesystem the locked packages make (install: true)
//     and every .deb under RepoDir/debian with a Packages index;
//   - Go: the toolchain at GOROOT and the module closure as a GOPROXY
//     tree at RepoDir/goproxy.
//
// Same inputs, same digest. cleanup removes the temporary layer files.
func imageIndex(c *Config, sources []Source, lock *Lock, contents *Contents) (_ v1.ImageIndex, cleanup func(), _ error) {
	tmp := &tempLayers{}
	cleanup = tmp.cleanup
	epoch := time.Unix(c.Epoch(), 0).UTC()
	arches, err := c.OCIArches()
	if err != nil {
		return nil, cleanup, err
	}
	var imgs []manifest.PlatformImage
	for _, goarch := range arches {
		var layers []namedLayer
		cfg := imageSettings{env: []string{}}
		for _, s := range sources {
			ls, set, err := s.layers(goarch, lock, contents, epoch, tmp)
			if err != nil {
				return nil, cleanup, err
			}
			layers = append(layers, ls...)
			cfg.add(set)
		}
		img, err := archImage(c, goarch, layers, cfg, epoch)
		if err != nil {
			return nil, cleanup, err
		}
		imgs = append(imgs, manifest.PlatformImage{Platform: v1.Platform{OS: "linux", Architecture: goarch}, Image: img})
	}
	idx, err := manifest.Index(imgs)
	return idx, cleanup, err
}

type namedLayer struct {
	layer v1.Layer
	what  string
}

func archImage(c *Config, goarch string, layers []namedLayer, s imageSettings, epoch time.Time) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	created := v1.Time{Time: epoch}
	var adds []mutate.Addendum
	for _, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: l.layer, History: v1.History{Created: created, CreatedBy: "lkpkg mirror: " + l.what}})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", goarch, created
	cf.Config.Env = append([]string{"PATH=" + s.path + "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, s.env...)
	cf.Config.Cmd = []string{"/bin/sh"}
	cf.Config.Labels = map[string]string{"org.lkpkg.mirror": c.Image}
	return mutate.ConfigFile(img, cf)
}
