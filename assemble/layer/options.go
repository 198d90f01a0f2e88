package layer

import (
	"errors"
	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Values of Options.Devices, the rule for character devices, block
// devices and fifos found in a layer.
const (
	// DevicesKeep (the default, "") keeps them as they are in the image. This
	// is what LinuxKit does: `linuxkit build` copies image contents through
	// without dropping device nodes, and an init image's /dev/console matters
	// before devtmpfs is mounted (the kernel opens it for init's stdio). In a
	// container rootfs they are harmless: runc mounts its own /dev. For tar
	// output a node is only a header; Unpack needs CAP_MKNOD for it (use
	// DevicesSkip when unpacking without root).
	DevicesKeep = "keep"
	// DevicesSkip leaves them out: the path is absent from the result, as if
	// the layer had deleted it.
	DevicesSkip = "skip"
	// DevicesError refuses an image that contains one.
	DevicesError = "error"
)

// DefaultMaxFileSize is the largest file (logical size) accepted when
// Options.MaxFileSize is 0.
const DefaultMaxFileSize int64 = 4 << 30

// Options tunes WriteTar and Unpack. The zero value is the default.
type Options struct {
	// Devices is DevicesKeep (or ""), DevicesSkip or DevicesError.
	Devices string
	// MaxFileSize is the largest logical file size accepted, in bytes; 0 means
	// DefaultMaxFileSize.
	MaxFileSize int64
}

// Errors wrapped by Error, for errors.Is.
var (
	ErrUnsafePath       = errors.New("path escapes the root")
	ErrThroughSymlink   = errors.New("path goes through a symlink")
	ErrNotDir           = errors.New("parent is not a directory")
	ErrBadHardlink      = errors.New("bad hard link")
	ErrDevice           = errors.New("device node or fifo refused")
	ErrFileTooLarge     = errors.New("file too large")
	ErrUnsupportedEntry = errors.New("unsupported tar entry")
	ErrLayerDigest      = errors.New("layer content does not match its digest")
)

// Error is the error WriteTar and Unpack return for a refused entry or an
// unreadable layer. It names the layer by digest (and position, bottom = 0)
// and, where there is one, the entry by its name in that layer.
type Error struct {
	Layer v1.Hash
	Index int
	Entry string
	Err   error
}

func (e *Error) Error() string {
	if e.Entry == "" {
		return fmt.Sprintf("layer %d (%s): %v", e.Index, e.Layer, e.Err)
	}
	return fmt.Sprintf("layer %d (%s): entry %q: %v", e.Index, e.Layer, e.Entry, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
