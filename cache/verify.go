package cache

import (
	"context"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Verify checks that index.json parses and that every blob reachable from
// it exists with the size and digest its descriptor gives.
func (c *Cache) Verify(ctx context.Context) error {
	im, err := c.readIndex()
	if err != nil {
		return err
	}
	w := newWalker(ctx, c.readBlob, c.checkBlob)
	for _, d := range im.Manifests {
		if _, err := w.walkRoot(d); err != nil {
			return fmt.Errorf("cache: verifying %s (%s): %w", refOf(d), d.Digest, err)
		}
	}
	return nil
}

// checkBlob re-hashes a stored blob.
func (c *Cache) checkBlob(d v1.Descriptor) error {
	p := c.blobPath(d.Digest)
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	defer f.Close()
	if d.Digest.Algorithm != "sha256" {
		return fmt.Errorf("blob %s: unsupported digest algorithm", d.Digest)
	}
	n, got, err := copyHashed(io.Discard, f)
	if err != nil {
		return fmt.Errorf("blob %s: reading %s: %w", d.Digest, p, err)
	}
	if n != d.Size {
		return fmt.Errorf("blob %s: %s is %d bytes, want %d", d.Digest, p, n, d.Size)
	}
	if got != d.Digest.Hex {
		return fmt.Errorf("blob %s: %s has digest sha256:%s", d.Digest, p, got)
	}
	return nil
}
