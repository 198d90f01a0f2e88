package cache

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// FuzzImport feeds arbitrary tars to Import, seeded with real layouts
// (lkpkg's order, containerd's order, a single untyped manifest). Whatever
// the input, Import must not panic, must take under a second and allocate
// under 256 MiB, and must either leave the cache as it was or leave it
// verified, with only valid refs.
func FuzzImport(f *testing.F) {
	src, _ := populated(f)
	data := exportOCI(f, src, "lkpkg/init:1")
	f.Add(data)
	f.Add(exportOCI(f, src, "lkpkg/init:1", "lkpkg/runc:2"))
	f.Add(indexLast(f, data, nil))
	img := testImage(f, amd64)
	manifest := must(img.RawManifest())(f)
	config := must(img.RawConfigFile())(f)
	f.Add(layoutTarOf(f, indexJSON(f, "", descOf(f, "", manifest, "lkpkg/untyped:1")), manifest, config))
	f.Add(layoutTarOf(f, indexJSON(f, types.OCIImageIndex, descOf(f, types.OCIManifestSchema1, manifest, "x")), manifest))

	f.Fuzz(func(t *testing.T, tar []byte) {
		c := openTest(t)
		index := filepath.Join(c.Dir(), indexFile)
		before := readFile(t, index)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		alloc := ms.TotalAlloc
		start := time.Now()
		refs, err := c.Import(context.Background(), bytes.NewReader(tar), ImportOptions{MaxBytes: 64 << 20})
		if d := time.Since(start); d > time.Second {
			t.Errorf("Import took %v", d)
		}
		runtime.ReadMemStats(&ms)
		if n := ms.TotalAlloc - alloc; n > 256<<20 {
			t.Errorf("Import allocated %d MiB", n>>20)
		}
		if des, _ := os.ReadDir(filepath.Join(c.Dir(), "tmp")); len(des) != 0 {
			t.Errorf("Import (error %v) left %d files in tmp/", err, len(des))
		}
		if err != nil {
			if !bytes.Equal(before, readFile(t, index)) {
				t.Errorf("failed Import (%v) changed index.json", err)
			}
			return
		}
		for _, r := range refs {
			if err := checkRefName(r); err != nil {
				t.Errorf("Import returned %v", err)
			}
		}
		if err := c.Verify(context.Background()); err != nil {
			t.Errorf("cache after Import of %v: %v", refs, err)
		}
	})
}
