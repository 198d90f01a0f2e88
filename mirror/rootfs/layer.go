package rootfs

import (
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Layer runs Install and wraps its tar as a go-containerregistry layer
// (gzip-compressed on demand, deterministically: same tar, same digest).
//
// The tar lives in an unlinked temporary file in opts.TempDir: nothing is
// left on disk, and the file is released when the layer is garbage
// collected.
func Layer(debs []string, opts Options) (v1.Layer, *Result, error) {
	f, err := os.CreateTemp(opts.TempDir, "debroot-layer-*.tar")
	if err != nil {
		return nil, nil, fmt.Errorf("debroot: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("debroot: %w", err)
	}
	res, err := Install(f, debs, opts)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("debroot: %w", err)
	}
	// Each opener gets its own reader over the shared file; closing one
	// must not close the file the others (and later calls) still read.
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(io.NewSectionReader(f, 0, size)), nil
	})
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("debroot: %w", err)
	}
	return layer, res, nil
}
