package cache

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/lkpkg/lkpkg/internal/atomicfile"
)

// Export writes refs to w as a tar. format "oci" gives an OCI image layout
// holding just those refs (with their per-arch entries); "docker" gives a
// docker-archive of one image per ref, picked for platform (default
// linux/GOARCH) when the ref is an index.
func (c *Cache) Export(ctx context.Context, w io.Writer, format string, refs []string, platform *v1.Platform) error {
	if len(refs) == 0 {
		return errors.New("cache: export: no refs given")
	}
	switch format {
	case "oci":
		return c.exportOCI(ctx, w, refs)
	case "docker":
		if platform == nil {
			platform = &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
		}
		return c.exportDocker(w, refs, *platform)
	default:
		return fmt.Errorf("cache: export: unknown format %q (want oci or docker)", format)
	}
}

// ExportFile is Export into the file path, written atomically: a failed or
// interrupted export never leaves a truncated tar behind.
func (c *Cache) ExportFile(ctx context.Context, path, format string, refs []string, platform *v1.Platform) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return c.Export(ctx, w, format, refs, platform)
	})
}

func (c *Cache) exportDocker(w io.Writer, refs []string, platform v1.Platform) error {
	images := map[name.Reference]v1.Image{}
	for _, r := range refs {
		tag, err := name.ParseReference(r, name.WeakValidation)
		if err != nil {
			return fmt.Errorf("cache: export: %q is not a valid image reference: %w", r, err)
		}
		img, err := c.Image(r, platform)
		if err != nil {
			return fmt.Errorf("cache: export: %w", err)
		}
		images[tag] = img
	}
	if err := tarball.MultiRefWrite(images, w); err != nil {
		return fmt.Errorf("cache: export docker archive: %w", err)
	}
	return nil
}

func (c *Cache) exportOCI(ctx context.Context, w io.Writer, refs []string) error {
	im, err := c.readIndex()
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, r := range refs {
		if _, ok := findRef(im.Manifests, r); !ok {
			return fmt.Errorf("cache: export: ref %s: %w", r, ErrNotFound)
		}
		for n := range c.namesOf(im.Manifests, r) {
			names[n] = true
		}
	}
	var roots []v1.Descriptor
	for _, d := range im.Manifests {
		if r := refOf(d); r != "" && names[normRef(r)] {
			roots = append(roots, d)
		}
	}
	blobs, err := c.reachable(ctx, roots)
	if err != nil {
		return err
	}
	index, err := encodeIndex(roots)
	if err != nil {
		return err
	}

	tw := tar.NewWriter(w)
	// index.json goes first so a streaming reader learns the refs early.
	for _, f := range []struct {
		name string
		data []byte
	}{{layoutFile, layoutJSON()}, {indexFile, index}} {
		if err := tw.WriteHeader(fileHeader(f.name, int64(len(f.data)))); err != nil {
			return fmt.Errorf("cache: export: %w", err)
		}
		if _, err := io.Copy(tw, bytes.NewReader(f.data)); err != nil {
			return fmt.Errorf("cache: export: %w", err)
		}
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(dirHeader(dir)); err != nil {
			return fmt.Errorf("cache: export: %w", err)
		}
	}
	for _, d := range blobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.exportBlob(tw, d); err != nil {
			return fmt.Errorf("cache: export: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("cache: export: %w", err)
	}
	return nil
}

// exportBlob copies one blob into the tar, re-checking its digest so that a
// corrupted cache never leaks into an archive unnoticed.
func (c *Cache) exportBlob(tw *tar.Writer, d v1.Descriptor) error {
	f, err := os.Open(c.blobPath(d.Digest))
	if err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	defer f.Close()
	if err := tw.WriteHeader(fileHeader(path.Join("blobs", d.Digest.Algorithm, d.Digest.Hex), d.Size)); err != nil {
		return err
	}
	// As io.CopyN: exactly d.Size bytes, io.EOF if the file is shorter.
	n, got, err := copyHashed(tw, io.LimitReader(f, d.Size))
	if err == nil && n < d.Size {
		err = io.EOF
	}
	if err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	if got != d.Digest.Hex {
		return fmt.Errorf("blob %s: stored content has digest sha256:%s", d.Digest, got)
	}
	return nil
}

// Fixed times and modes keep exported tars reproducible.
func fileHeader(name string, size int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
}

func dirHeader(name string) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
}
