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
	var b bytes.Buffer
	fmt.Fprintf(&b, "format %s\nepoch %d\n", ImageFormat, c.Epoch())
	lock, err := os.ReadFile(c.LockFile())
	if err != nil {
		return nil, fmt.Errorf("%s: %w (run `lkpkg mirror lock`)", c.LockFile(), err)
	}
	fmt.Fprintf(&b, "lock sha256:%x\n", sha256.Sum256(lock))
	pub, err := os.ReadFile(c.Path(c.SigningKey))
	if err != nil {
		return nil, fmt.Errorf("%s: signing-key: %w", c.file, err)
	}
	fmt.Fprintf(&b, "key %s sha256:%x\n", path.Base(c.SigningKey), sha256.Sum256(pub))
	for _, a := range sortedArches(c) {
		if r := c.Rootfs[a]; r != "" {
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

// ImageIndex builds the multi-arch mirror image: per arch, the base root
// filesystem as it is, plus one layer holding the offline repository
// (RepoDir/ARCH/*.apk and an APKINDEX.tar.gz signed by signer), the
// mirror's public key in /etc/apk/keys and /etc/apk/repositories naming
// RepoDir. Same inputs, same digest.
func ImageIndex(c *Config, lock *Lock, fetched Fetched, keys *apksign.Keyring, signer *apksign.Signer) (v1.ImageIndex, error) {
	pub, err := os.ReadFile(c.Path(c.SigningKey))
	if err != nil {
		return nil, fmt.Errorf("%s: signing-key: %w", c.file, err)
	}
	if want, err := apksign.ParsePublicKey(pub); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Path(c.SigningKey), err)
	} else if !want.Equal(&signer.Key.PublicKey) {
		return nil, fmt.Errorf("the signing key given does not match %s (the public key mirror.yml names)", c.Path(c.SigningKey))
	}
	signer.KeyName = path.Base(c.SigningKey)
	epoch := time.Unix(c.Epoch(), 0).UTC()
	signer.ModTime = epoch

	var imgs []manifest.PlatformImage
	for _, arch := range sortedArches(c) {
		// Nothing in the image names the org: it is where the image is
		// stored, not what it is (the tag does not hash it either).
		files, err := repository(arch, lock.Packages[arch], fetched, keys, signer, c.Image+" "+arch)
		if err != nil {
			return nil, err
		}
		repoLayer, err := repoLayer(arch, files, signer.KeyName, pub, epoch)
		if err != nil {
			return nil, err
		}
		img, err := archImage(c, arch, repoLayer, epoch)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, manifest.PlatformImage{Platform: v1.Platform{OS: "linux", Architecture: GOARCH(arch)}, Image: img})
	}
	return manifest.Index(imgs)
}

func archImage(c *Config, arch string, repo v1.Layer, epoch time.Time) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	created := v1.Time{Time: epoch}
	var adds []mutate.Addendum
	if r := c.Rootfs[arch]; r != "" {
		base, err := tarball.LayerFromFile(c.Path(r), tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, fmt.Errorf("%s: rootfs %s: %w", c.file, arch, err)
		}
		adds = append(adds, mutate.Addendum{Layer: base, History: v1.History{Created: created, CreatedBy: "lkpkg mirror: root filesystem"}})
	}
	adds = append(adds, mutate.Addendum{Layer: repo, History: v1.History{Created: created, CreatedBy: "lkpkg mirror: offline repository " + RepoDir}})
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", GOARCH(arch), created
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
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
