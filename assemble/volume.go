package assemble

// Volumes: LinuxKit's `volumes:` section, as `linuxkit build` lays it out
// (linuxkit/linuxkit src/cmd/linuxkit/moby/build/build.go, the loop over
// m.Volumes; moby/config.go Volume and its *Dir methods; moby/const.go
// allVolumesBaseDir; moby/build/volume.go updateMountsAndBindsFromVolumes).
//
// Each volume NAME is a directory of the root filesystem, written after
// the init images and before the onboot containers:
//
//	containers/volumes/NAME/lower/    the volume's contents: empty without
//	                                  an image; the image's flattened
//	                                  filesystem (format filesystem, the
//	                                  default); or an OCI image layout of
//	                                  the image (format oci)
//	containers/volumes/NAME/tmp/      empty; only for read-write volumes
//	                                  (where init puts the overlay's upper
//	                                  and work directories)
//	containers/volumes/NAME/merged/   empty; the mount point containers use
//
// A `binds`, `binds.add` or `mounts` (type bind) entry of an onboot,
// onshutdown or service container whose source does not start with "/"
// names a volume: its source is replaced by the volume's merged directory,
// /containers/volumes/NAME/merged, before the OCI config is generated. A
// read-only volume may only be bound read-only.

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/lkpkg/lkpkg/runconfig"
)

// VolumesDir is the directory of the root filesystem that holds every
// volume (LinuxKit's allVolumesBaseDir).
const VolumesDir = "/containers/volumes"

// BaseDir is the volume's directory in the root filesystem.
func (v Volume) BaseDir() string { return VolumesDir + "/" + v.Name }

// LowerDir holds the volume's contents.
func (v Volume) LowerDir() string { return v.BaseDir() + "/lower" }

// TmpDir is where init makes the overlay's upper and work directories of a
// read-write volume (absent for a read-only one).
func (v Volume) TmpDir() string { return v.BaseDir() + "/tmp" }

// MergedDir is the volume as containers see it: binds and mounts of the
// volume name are rewritten to it.
func (v Volume) MergedDir() string { return v.BaseDir() + "/merged" }

// VolByName returns the volume called name, or nil.
func (i *Image) VolByName(name string) *Volume {
	for k := range i.Volumes {
		if i.Volumes[k].Name == name {
			return &i.Volumes[k]
		}
	}
	return nil
}

// IndexSource returns the image index that ref's pinned digest names,
// its raw manifest checked against that digest, or an error wrapping
// ErrNotIndex when the digest names a single image manifest (Compose then
// takes the image from its ImageSource). Compose needs it only for volumes
// with `format: oci`, whose OCI layout holds the index (filtered to the
// volume's platforms). Compose checks every child manifest, config and
// layer it copies against the digests the index gives.
type IndexSource func(ref string) (v1.ImageIndex, error)

// ErrNotIndex is what an IndexSource wraps for a reference pinned to a
// single image manifest.
var ErrNotIndex = errors.New("not an image index")

// volumeReadOnlyOK reports whether options mount read-only: the last of
// "ro" and "rw" among them is "ro" (mount(8) and runc apply options in
// order, so a later rw undoes an earlier ro).
func volumeReadOnlyOK(options []string) bool {
	ro := false
	for _, o := range options {
		switch strings.TrimSpace(o) {
		case "ro":
			ro = true
		case "rw":
			ro = false
		}
	}
	return ro
}

// volumeCheck validates the volumes of an Image that may not have come
// through ParseImage, and indexes them by name.
func volumeCheck(vols []Volume) (map[string]*Volume, error) {
	m := make(map[string]*Volume, len(vols))
	for i := range vols {
		v := &vols[i]
		if !yamlVolumeRE.MatchString(v.Name) {
			return nil, fmt.Errorf("volumes[%d]: %q is not a valid volume name (lower-case letters, digits, '_', '-')", i, v.Name)
		}
		if _, dup := m[v.Name]; dup {
			return nil, fmt.Errorf("volumes[%d]: duplicate volume name %q", i, v.Name)
		}
		switch v.Format {
		case "", "filesystem", "oci":
		default:
			return nil, fmt.Errorf("volumes[%d] %q: format %q must be oci or filesystem", i, v.Name, v.Format)
		}
		m[v.Name] = v
	}
	return m, nil
}

// volumeConfig returns a copy of a container's YAML options with every
// bind and bind mount of a volume pointed at the volume's merged
// directory, as LinuxKit's updateMountsAndBindsFromVolumes does. Only the
// YAML's binds, binds.add and mounts are rewritten (not the image label's),
// as in LinuxKit. what names the container in errors.
func volumeConfig(what string, cfg *runconfig.Config, vols map[string]*Volume) (*runconfig.Config, error) {
	out := *cfg
	binds := func(field string, list *[]string) (*[]string, error) {
		if list == nil {
			return nil, nil
		}
		res := make([]string, 0, len(*list))
		for j, b := range *list {
			parts := strings.Split(b, ":")
			if strings.HasPrefix(parts[0], "/") {
				res = append(res, b)
				continue
			}
			f := fmt.Sprintf("%s[%d] %q", field, j, b)
			v := vols[parts[0]]
			if v == nil {
				return nil, fmt.Errorf("%s: %s: no volume %q in volumes:", what, f, parts[0])
			}
			if v.ReadOnly && (len(parts) < 3 || !volumeReadOnlyOK(strings.Split(parts[2], ","))) {
				return nil, fmt.Errorf("%s: %s: volume %q is read-only, but the bind would mount it read-write (give it the ro option, e.g. %s:%s:ro)",
					what, f, v.Name, parts[0], volumeAt(parts, 1))
			}
			parts[0] = v.MergedDir()
			res = append(res, strings.Join(parts, ":"))
		}
		return &res, nil
	}
	var err error
	if out.Binds, err = binds("binds", cfg.Binds); err != nil {
		return nil, err
	}
	if out.BindsAdd, err = binds("binds.add", cfg.BindsAdd); err != nil {
		return nil, err
	}
	if cfg.Mounts != nil {
		res := make([]specs.Mount, 0, len(*cfg.Mounts))
		for j, m := range *cfg.Mounts {
			m.Options = slices.Clone(m.Options)
			if m.Type == "bind" && !strings.HasPrefix(m.Source, "/") {
				f := fmt.Sprintf("mounts[%d] (destination %q)", j, m.Destination)
				v := vols[m.Source]
				switch {
				case m.Source == "":
					return nil, fmt.Errorf("%s: %s: a bind mount needs a source: an absolute path or a volume name", what, f)
				case v == nil:
					return nil, fmt.Errorf("%s: %s: no volume %q in volumes:", what, f, m.Source)
				case v.ReadOnly && !volumeReadOnlyOK(m.Options):
					return nil, fmt.Errorf("%s: %s: volume %q is read-only, but the mount would mount it read-write (add ro to its options)", what, f, v.Name)
				}
				m.Source = v.MergedDir()
			}
			res = append(res, m)
		}
		out.Mounts = &res
	}
	return &out, nil
}

func volumeAt(parts []string, i int) string {
	if i < len(parts) {
		return parts[i]
	}
	return "DEST"
}

// --- writing volumes -----------------------------------------------------------

// volume writes containers/volumes/NAME/{lower/,tmp/,merged/} (see the
// file comment), in LinuxKit's order.
func (c *composer) volume(i int, v *Volume, src ImageSource) error {
	what := fmt.Sprintf("volumes[%d] %q", i, v.Name)
	if v.Image != "" {
		what += " (" + v.Image + ")"
	}
	dir := func(p string) error {
		return c.add(&tar.Header{Typeflag: tar.TypeDir, Name: p, Mode: 0o755, ModTime: composeEpoch}, nil, what)
	}
	base := strings.TrimPrefix(v.BaseDir(), "/")
	lower := strings.TrimPrefix(v.LowerDir(), "/")
	if err := dir(base); err != nil {
		return err
	}
	if err := dir(lower); err != nil {
		return err
	}
	switch {
	case v.Image == "":
		// An empty volume: lower/ stays empty.
	case v.Format == "oci":
		if err := c.volumeOCI(v, lower, what, src); err != nil {
			return err
		}
	default:
		im, err := src(v.Image)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := c.image(im, lower, what); err != nil {
			return err
		}
	}
	if !v.ReadOnly {
		if err := dir(strings.TrimPrefix(v.TmpDir(), "/")); err != nil {
			return err
		}
	}
	return dir(strings.TrimPrefix(v.MergedDir(), "/"))
}

// volumeOCI writes the OCI image layout of v's image into lower: the
// oci-layout file, index.json with one entry (annotated
// org.opencontainers.image.ref.name = the image reference as written)
// naming the image index filtered to the volume's platforms, or the image
// manifest when the reference is pinned to a single image, and every blob
// they reach. go-containerregistry's layout package writes it into a
// temporary directory; its files go into the tar in sorted order with fixed
// metadata (directories 0755, files 0644, root:root, mtime 0).
func (c *composer) volumeOCI(v *Volume, lower, what string, src ImageSource) error {
	if c.opts.IndexSource == nil {
		return fmt.Errorf("%s: format: oci needs the image's index, and the builder gives Compose no IndexSource", what)
	}
	idx, img, err := c.volumeOCIRoot(v, what, src)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(c.opts.TempDir, ".lkpkg-oci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("%s: OCI layout: %w", what, err)
	}
	ann := layout.WithAnnotations(map[string]string{ocispec.AnnotationRefName: v.Image})
	if idx != nil {
		err = p.AppendIndex(idx, ann)
	} else {
		err = p.AppendImage(img, ann, layout.WithPlatform(img.platform))
	}
	if err != nil {
		return fmt.Errorf("%s: OCI layout: %w", what, err)
	}
	return c.volumeTree(tmp, lower, what)
}

// volumeOCIRoot picks what the layout holds: a (filtered) index, or a
// single image.
func (c *composer) volumeOCIRoot(v *Volume, what string, src ImageSource) (v1.ImageIndex, *checkedImage, error) {
	want := make([]v1.Platform, 0, len(v.Platforms))
	for _, s := range v.Platforms {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: platform %q: %w", what, s, err)
		}
		want = append(want, *p)
	}
	ii, err := c.opts.IndexSource(v.Image)
	if errors.Is(err, ErrNotIndex) {
		// Pinned to one image manifest: ImageSource has it (for the build's
		// platform, which it checks).
		im, raw, err := imageManifest(src, v.Image)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		mt, err := im.MediaType()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		vi, err := checkImage(im, v1.Descriptor{MediaType: mt, Digest: sha256Of(raw), Size: int64(len(raw))}, true)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		if len(want) > 0 && !slices.ContainsFunc(want, func(w v1.Platform) bool { return volumePlatformMatch(w, vi.platform) }) {
			return nil, nil, fmt.Errorf("%s: the image is a single manifest for %s, not one of the volume's platforms %v", what, vi.platform.String(), v.Platforms)
		}
		return nil, vi, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: image index: %w", what, err)
	}
	raw, err := ii.RawManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: image index: %w", what, err)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: image index: %w", what, err)
	}
	var keep func(d v1.Descriptor) bool
	if len(want) == 0 {
		// No platforms: the build's, i.e. the child ImageSource picks.
		_, braw, err := imageManifest(src, v.Image)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		h := sha256Of(braw)
		keep = func(d v1.Descriptor) bool { return d.Digest == h }
	} else {
		keep = func(d v1.Descriptor) bool {
			return d.Platform != nil && slices.ContainsFunc(want, func(w v1.Platform) bool { return volumePlatformMatch(w, *d.Platform) })
		}
	}
	out := &volumeIndex{mt: im.MediaType, images: map[v1.Hash]v1.Image{}}
	if out.mt == "" {
		if out.mt, err = ii.MediaType(); err != nil {
			return nil, nil, fmt.Errorf("%s: image index: %w", what, err)
		}
	}
	var kept []v1.Descriptor
	for _, d := range im.Manifests {
		if !d.MediaType.IsImage() || !keep(d) {
			continue
		}
		kept = append(kept, d)
		if _, done := out.images[d.Digest]; done {
			continue
		}
		ci, err := ii.Image(d.Digest)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: image %s: %w", what, d.Digest, err)
		}
		vi, err := checkImage(ci, d, true)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		out.images[d.Digest] = vi
	}
	for i, w := range want {
		if !slices.ContainsFunc(kept, func(d v1.Descriptor) bool { return volumePlatformMatch(w, *d.Platform) }) {
			return nil, nil, fmt.Errorf("%s: the image index has no image for platform %s", what, v.Platforms[i])
		}
	}
	if len(kept) == 0 {
		return nil, nil, fmt.Errorf("%s: the image index has no image for the build's platform", what)
	}
	if len(kept) == len(im.Manifests) {
		out.raw = raw // nothing filtered out: the index as pinned
	} else {
		m := im.DeepCopy()
		m.Manifests = kept
		if out.raw, err = json.Marshal(m); err != nil {
			return nil, nil, err
		}
	}
	return out, nil, nil
}

// imageManifest is src's image for ref (the build's platform, which src
// checks) and its raw manifest.
func imageManifest(src ImageSource, ref string) (v1.Image, []byte, error) {
	im, err := src(ref)
	if err != nil {
		return nil, nil, err
	}
	raw, err := im.RawManifest()
	return im, raw, err
}

// volumePlatformMatch reports whether got is the platform want names: OS
// and architecture equal, and the variant too when want has one (arm64
// without a variant is v8).
func volumePlatformMatch(want, got v1.Platform) bool {
	if got.OS != want.OS || got.Architecture != want.Architecture {
		return false
	}
	return want.Variant == "" || volumeVariant(got) == volumeVariant(want)
}

func volumeVariant(p v1.Platform) string {
	if p.Architecture == "arm64" && p.Variant == "" {
		return "v8"
	}
	return p.Variant
}

// volumeTree copies the directory tree dir into the root filesystem
// under prefix, sorted, with fixed metadata.
func (c *composer) volumeTree(dir, prefix, what string) error {
	entries, err := treeEntries(dir)
	if err != nil {
		return fmt.Errorf("%s: OCI layout: %w", what, err)
	}
	for _, e := range entries {
		h := &tar.Header{Name: prefix + "/" + e.rel, ModTime: composeEpoch}
		switch st := e.info; {
		case st.IsDir():
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
			if err := c.add(h, nil, what); err != nil {
				return err
			}
		case st.Mode().IsRegular():
			h.Mode = 0o644
			if err := c.hostFile(h, e.path, st.Size(), what); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: OCI layout: %s is not a regular file or directory", what, filepath.FromSlash(e.rel))
		}
	}
	return nil
}

// volumeIndex is the index a format: oci volume's layout holds: the pinned
// index when every child is kept, else the same index with only the kept
// children (descriptors verbatim, in the pinned order).
type volumeIndex struct {
	raw    []byte
	mt     types.MediaType
	images map[v1.Hash]v1.Image
}

var _ v1.ImageIndex = (*volumeIndex)(nil)

func (x *volumeIndex) MediaType() (types.MediaType, error) { return x.mt, nil }
func (x *volumeIndex) Digest() (v1.Hash, error)            { return sha256Of(x.raw), nil }
func (x *volumeIndex) Size() (int64, error)                { return int64(len(x.raw)), nil }
func (x *volumeIndex) RawManifest() ([]byte, error)        { return x.raw, nil }
func (x *volumeIndex) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(bytes.NewReader(x.raw))
}

func (x *volumeIndex) Image(h v1.Hash) (v1.Image, error) {
	if im, ok := x.images[h]; ok {
		return im, nil
	}
	return nil, fmt.Errorf("image %s is not in the volume's index", h)
}

func (x *volumeIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	return nil, fmt.Errorf("index %s is not in the volume's index", h)
}
