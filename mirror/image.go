package mirror

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lkpkg/lkpkg/manifest"
	"github.com/lkpkg/lkpkg/mirror/apksign"
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
	sum := sha256.Sum256(in)
	return hex.EncodeToString(sum[:])[:40], nil
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

// tagInputs is TagInputs for the given lock bytes.
func tagInputs(c *Config, lock []byte) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "format %s\nepoch %d\n", ImageFormat, c.Epoch())
	fmt.Fprintf(&b, "lock sha256:%x\n", sha256.Sum256(lock))
	if c.HasAlpine() {
		pub, err := os.ReadFile(c.Path(c.SigningKey))
		if err != nil {
			return nil, fmt.Errorf("%s: signing-key: %w", c.file, err)
		}
		fmt.Fprintf(&b, "key %s sha256:%x\n", path.Base(c.SigningKey), sha256.Sum256(pub))
	}
	// How the Debian and Go sections are laid out; Alpine-only mirrors
	// keep the tag they always had.
	if c.Debian != nil {
		fmt.Fprintf(&b, "debian %s install %v env %q\n", DebianLayout, c.Debian.Installs(), c.Debian.Env)
	}
	if c.Go != nil {
		fmt.Fprintf(&b, "go %s\n", GoLayout)
	}
	for _, a := range sortedArches(c) {
		if r := c.Rootfs[a]; r != "" && c.HasAlpine() {
			sum, err := fileSHA256(c.Path(r))
			if err != nil {
				return nil, fmt.Errorf("%s: rootfs %s: %w", c.file, a, err)
			}
			fmt.Fprintf(&b, "rootfs %s sha256:%s\n", a, sum)
		}
	}
	return b.Bytes(), nil
}

func sortedArches(c *Config) []string {
	a := append([]string(nil), c.Arches...)
	sort.Strings(a)
	return a
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// apkParts are what the Alpine section needs to write its repository.
type apkParts struct {
	keys   *apksign.Keyring
	signer *apksign.Signer
}

// imageIndex builds the multi-arch mirror image. Per arch, in order:
//   - Alpine: the base root filesystem as it is, plus one layer holding the
//     offline repository (RepoDir/ARCH/*.apk and an APKINDEX.tar.gz signed
//     by the mirror's key), the key in /etc/apk/keys and
//     /etc/apk/repositories naming RepoDir;
//   - Debian: the root filesystem the locked packages make (install: true),
//     plus a layer keeping every .deb under RepoDir/debian with a Packages
//     index;
//   - Go: the toolchain at GOROOT, plus the module closure as a GOPROXY
//     tree at RepoDir/goproxy.
//
// Same inputs, same digest. cleanup removes the temporary layer files.
func imageIndex(c *Config, lock *Lock, contents *Contents, apk *apkParts) (_ v1.ImageIndex, cleanup func(), _ error) {
	tmp := &tempLayers{}
	cleanup = tmp.cleanup
	epoch := time.Unix(c.Epoch(), 0).UTC()
	var pub []byte
	if apk != nil {
		var err error
		if pub, err = os.ReadFile(c.Path(c.SigningKey)); err != nil {
			return nil, cleanup, fmt.Errorf("%s: signing-key: %w", c.file, err)
		}
		if want, err := apksign.ParsePublicKey(pub); err != nil {
			return nil, cleanup, fmt.Errorf("%s: %w", c.Path(c.SigningKey), err)
		} else if !want.Equal(&apk.signer.Key.PublicKey) {
			return nil, cleanup, fmt.Errorf("the signing key given does not match %s (the public key mirror.yml names)", c.Path(c.SigningKey))
		}
		apk.signer.KeyName = path.Base(c.SigningKey)
		apk.signer.ModTime = epoch
	}
	arches, err := c.OCIArches()
	if err != nil {
		return nil, cleanup, err
	}
	var imgs []manifest.PlatformImage
	for _, goarch := range arches {
		var layers []namedLayer
		cfg := imageSettings{env: []string{}}
		if apk != nil {
			arch := apkArch(goarch)
			if r := c.Rootfs[arch]; r != "" {
				base, err := tarball.LayerFromFile(c.Path(r), tarball.WithMediaType(types.OCILayer))
				if err != nil {
					return nil, cleanup, fmt.Errorf("%s: rootfs %s: %w", c.file, arch, err)
				}
				layers = append(layers, namedLayer{base, "root filesystem"})
			}
			// Nothing in the image names the org: it is where the image
			// is stored, not what it is (the tag does not hash it either).
			files, err := repository(arch, lock.Packages[arch], contents.APK, apk.keys, apk.signer, c.Image+" "+arch)
			if err != nil {
				return nil, cleanup, err
			}
			repo, err := repoLayer(arch, files, apk.signer.KeyName, pub, epoch)
			if err != nil {
				return nil, cleanup, err
			}
			layers = append(layers, namedLayer{repo, "offline repository " + RepoDir})
		}
		if c.Debian != nil {
			ls, err := debianLayers(c, lock.Debian, contents.Debs, goarch, epoch, tmp)
			if err != nil {
				return nil, cleanup, err
			}
			layers = append(layers, ls...)
			cfg.env = append(cfg.env, c.Debian.Env...)
		}
		if c.Go != nil {
			ls, env, err := goLayers(c, lock.Go, contents.Go, goarch, epoch, tmp)
			if err != nil {
				return nil, cleanup, err
			}
			layers = append(layers, ls...)
			cfg.env = append(cfg.env, env...)
			if c.Go.Toolchain != "" {
				cfg.path = GOROOT + "/bin:"
			}
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

// apkArch maps a GOARCH back to the apk arch.
func apkArch(goarch string) string {
	for a, g := range apkArches {
		if g == goarch {
			return a
		}
	}
	return ""
}

type namedLayer struct {
	layer v1.Layer
	what  string
}

// imageSettings are what sections add to the image config.
type imageSettings struct {
	env  []string
	path string // prepended to PATH
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

// repoLayer is a deterministic gzip'd tar of the repository for arch,
// the mirror key and the repositories file.
func repoLayer(arch string, files []repoFile, keyName string, pub []byte, epoch time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	hdr := func(name string, mode int64, size int64, typ byte) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Size: size, Typeflag: typ, ModTime: epoch, Format: tar.FormatPAX, Uname: "root", Gname: "root"}
	}
	root := RepoDir[1:]
	for _, d := range []string{root + "/", root + "/" + arch + "/"} {
		if err := tw.WriteHeader(hdr(d, 0o755, 0, tar.TypeDir)); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		data := f.data
		if data == nil {
			if data, err = os.ReadFile(f.path); err != nil {
				return nil, err
			}
		}
		if err := tw.WriteHeader(hdr(root+"/"+arch+"/"+f.name, f.mode, int64(len(data)), tar.TypeReg)); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	extra := []struct {
		name string
		data []byte
	}{
		{"etc/apk/keys/" + keyName, pub},
		{"etc/apk/repositories", []byte(RepoDir + "\n")},
	}
	for _, e := range extra {
		if err := tw.WriteHeader(hdr(e.name, 0o644, int64(len(e.data)), tar.TypeReg)); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, tarball.WithMediaType(types.OCILayer))
}
