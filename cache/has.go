package cache

import (
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// HasBlob reports whether the blob with digest h is stored here.
func (c *Cache) HasBlob(h v1.Hash) bool {
	if h.Algorithm != "sha256" {
		return false
	}
	_, err := os.Stat(filepath.Join(c.blobDir(), h.Hex))
	return err == nil
}
