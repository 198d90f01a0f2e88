package cache

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestVerifyDetectsDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, c *Cache, img v1.Image) v1.Hash
	}{
		{"corrupted layer", func(t *testing.T, c *Cache, img v1.Image) v1.Hash {
			h := imageBlobs(t, img)[2]
			corruptBlob(t, c, h)
			return h
		}},
		{"corrupted manifest", func(t *testing.T, c *Cache, img v1.Image) v1.Hash {
			h := digestOf(t, img)
			corruptBlob(t, c, h)
			return h
		}},
		{"missing config", func(t *testing.T, c *Cache, img v1.Image) v1.Hash {
			h := imageBlobs(t, img)[1]
			if err := os.Remove(filepath.Join(c.Dir(), "blobs", "sha256", h.Hex)); err != nil {
				t.Fatal(err)
			}
			return h
		}},
		{"truncated layer", func(t *testing.T, c *Cache, img v1.Image) v1.Hash {
			h := imageBlobs(t, img)[3]
			if err := os.Truncate(filepath.Join(c.Dir(), "blobs", "sha256", h.Hex), 3); err != nil {
				t.Fatal(err)
			}
			return h
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := openTest(t)
			img := testImage(t, amd64)
			writeIndex(t, c, "lkpkg/v:1", testIndex(t, child{amd64, img}))
			if err := c.Verify(ctx); err != nil {
				t.Fatalf("Verify before damage: %v", err)
			}
			bad := tt.damage(t, c, img)
			err := c.Verify(ctx)
			if err == nil || !strings.Contains(err.Error(), bad.String()) {
				t.Fatalf("Verify() = %v, want error naming %s", err, bad)
			}
		})
	}
}
