package layertest

// Tampering with an OCI image layout on disk, to test that what it serves
// is verified.

import (
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// BlobPath is the file of blob h in the OCI image layout dir (the lkpkg
// cache is one).
func BlobPath(dir string, h v1.Hash) string {
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
}

// ReplaceBlob overwrites blob h of the OCI image layout dir with data: a
// layout serves its blobs without checking them.
func ReplaceBlob(t testing.TB, dir string, h v1.Hash, data []byte) {
	t.Helper()
	p := BlobPath(dir, h)
	os.Chmod(p, 0o644) // the cache writes blobs read-only
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
