package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/pkg/filters"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ContentStore exposes the layout's blobs as a read-only containerd content
// store, as BuildKit's SolveOpt.OCIStores wants for oci-layout:// named
// contexts. BuildKit's session attachable forwards every content.Store call
// from the builder, so writes (Writer), deletes (Delete), label updates
// (Update) and Abort are refused with errdefs.ErrPermissionDenied: they
// would bypass the lock and index.json. Creating the store touches nothing
// on disk.
func (c *Cache) ContentStore() (content.Store, error) {
	if _, err := os.Stat(c.blobDir()); err != nil {
		return nil, fmt.Errorf("cache: content store on %s: %w", c.dir, err)
	}
	return &readOnlyStore{c: c}, nil
}

// readOnlyStore is a content.Store over blobs/sha256 that cannot change it.
type readOnlyStore struct {
	c *Cache
}

var _ content.Store = (*readOnlyStore)(nil)

func errReadOnly(op string) error {
	return fmt.Errorf("cache: content store is read-only: %s refused: %w", op, errdefs.ErrPermissionDenied)
}

// blobFile maps a digest to its path, refusing anything but a valid sha256.
func (s *readOnlyStore) blobFile(dgst digest.Digest) (string, error) {
	if err := dgst.Validate(); err != nil {
		return "", fmt.Errorf("cache: %q: %w: %w", dgst, err, errdefs.ErrInvalidArgument)
	}
	if dgst.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("cache: %s: unsupported digest algorithm: %w", dgst, errdefs.ErrNotFound)
	}
	return filepath.Join(s.c.blobDir(), dgst.Encoded()), nil
}

func blobInfo(dgst digest.Digest, fi fs.FileInfo) content.Info {
	return content.Info{Digest: dgst, Size: fi.Size(), CreatedAt: fi.ModTime(), UpdatedAt: fi.ModTime()}
}

func (s *readOnlyStore) Info(ctx context.Context, dgst digest.Digest) (content.Info, error) {
	p, err := s.blobFile(dgst)
	if err != nil {
		return content.Info{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return content.Info{}, fmt.Errorf("cache: content %s: %w", dgst, errdefs.ErrNotFound)
		}
		return content.Info{}, fmt.Errorf("cache: content %s: %w", dgst, err)
	}
	if !fi.Mode().IsRegular() {
		return content.Info{}, fmt.Errorf("cache: content %s: not a regular file: %w", dgst, errdefs.ErrNotFound)
	}
	return blobInfo(dgst, fi), nil
}

func (s *readOnlyStore) ReaderAt(ctx context.Context, desc ocispec.Descriptor) (content.ReaderAt, error) {
	p, err := s.blobFile(desc.Digest)
	if err != nil {
		return nil, err
	}
	// OpenReader only opens the file; it maps absence to ErrNotFound.
	ra, err := local.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("cache: content %s: %w", desc.Digest, err)
	}
	return ra, nil
}

func (s *readOnlyStore) Walk(ctx context.Context, fn content.WalkFunc, fltrs ...string) error {
	filter, err := filters.ParseAll(fltrs...)
	if err != nil {
		return fmt.Errorf("cache: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	des, err := os.ReadDir(s.c.blobDir())
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	for _, de := range des {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !de.Type().IsRegular() || !isSHA256Hex(de.Name()) {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue // removed by a concurrent GC
		}
		info := blobInfo(digest.NewDigestFromEncoded(digest.SHA256, de.Name()), fi)
		if !filter.Match(content.AdaptInfo(info)) {
			continue
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// Status reports no ingestions: there never are any.
func (s *readOnlyStore) Status(ctx context.Context, ref string) (content.Status, error) {
	return content.Status{}, fmt.Errorf("cache: ingestion %q: %w", ref, errdefs.ErrNotFound)
}

func (s *readOnlyStore) ListStatuses(ctx context.Context, fltrs ...string) ([]content.Status, error) {
	return nil, nil
}

func (s *readOnlyStore) Update(ctx context.Context, info content.Info, fieldpaths ...string) (content.Info, error) {
	return content.Info{}, errReadOnly("update of " + info.Digest.String())
}

func (s *readOnlyStore) Delete(ctx context.Context, dgst digest.Digest) error {
	return errReadOnly("delete of " + dgst.String())
}

func (s *readOnlyStore) Writer(ctx context.Context, opts ...content.WriterOpt) (content.Writer, error) {
	return nil, errReadOnly("write")
}

func (s *readOnlyStore) Abort(ctx context.Context, ref string) error {
	return errReadOnly("abort of " + ref)
}
