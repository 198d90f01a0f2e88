package cache

import (
	"fmt"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
)

// ContentStore exposes the layout's blobs as a containerd content store, as
// BuildKit's SolveOpt.OCIStores wants for oci-layout:// named contexts. It is
// meant for reading: content written through it bypasses index.json.
func (c *Cache) ContentStore() (content.Store, error) {
	s, err := local.NewStore(c.dir)
	if err != nil {
		return nil, fmt.Errorf("cache: content store on %s: %w", c.dir, err)
	}
	return s, nil
}
