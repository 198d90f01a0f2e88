package mirror

import (
	"bufio"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tempLayers holds layer files too big to keep in memory until the image
// is stored.
type tempLayers struct{ dir string }

func (t *tempLayers) cleanup() {
	if t.dir != "" {
		os.RemoveAll(t.dir)
	}
}

// gzipLayer writes a tar stream through gzip at level into a temporary
// file and returns it as a layer. klauspost's gzip output depends only on
// the input, the level and the library version (pinned in go.mod).
func (t *tempLayers) gzipLayer(level int, write func(io.Writer) error) (v1.Layer, error) {
	if t.dir == "" {
		d, err := os.MkdirTemp("", "lkpkg-mirror-*")
		if err != nil {
			return nil, err
		}
		t.dir = d
	}
	f, err := os.CreateTemp(t.dir, "layer-*.tar.gz")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	gz, err := gzip.NewWriterLevel(bw, level)
	if err != nil {
		return nil, err
	}
	// Producing the tar (decompressing .debs) and compressing it run on
	// two cores.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := write(pw)
		pw.CloseWithError(err)
		done <- err
	}()
	_, cerr := io.Copy(gz, bufio.NewReaderSize(pr, 1<<20))
	pr.CloseWithError(cerr) // unblocks write if compressing failed
	if err := <-done; err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, cerr
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return tarball.LayerFromFile(f.Name(), tarball.WithMediaType(types.OCILayer))
}
