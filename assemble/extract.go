package assemble

// Layer flattening lives in assemble/layer. These names keep assemble's
// callers (Compose, the output writers) and its API as they were.

import (
	"archive/tar"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/assemble/layer"
)

// Values of ExtractOptions.Devices (see layer.DevicesKeep).
const (
	DevicesKeep  = layer.DevicesKeep
	DevicesSkip  = layer.DevicesSkip
	DevicesError = layer.DevicesError
)

// DefaultMaxFileSize is layer.DefaultMaxFileSize.
const DefaultMaxFileSize = layer.DefaultMaxFileSize

// ExtractOptions tunes Rootfs and Unpack (layer.Options).
type ExtractOptions = layer.Options

// ExtractError is the error Rootfs and Unpack return (layer.Error).
type ExtractError = layer.Error

// Errors wrapped by ExtractError (see package layer).
var (
	ErrUnsafePath       = layer.ErrUnsafePath
	ErrThroughSymlink   = layer.ErrThroughSymlink
	ErrNotDir           = layer.ErrNotDir
	ErrBadHardlink      = layer.ErrBadHardlink
	ErrDevice           = layer.ErrDevice
	ErrFileTooLarge     = layer.ErrFileTooLarge
	ErrUnsupportedEntry = layer.ErrUnsupportedEntry
	ErrLayerDigest      = layer.ErrLayerDigest
)

// Rootfs is layer.WriteTar.
func Rootfs(tw *tar.Writer, prefix string, img v1.Image, opts ExtractOptions) error {
	return layer.WriteTar(tw, prefix, img, opts)
}

// Unpack is layer.Unpack.
func Unpack(dir string, img v1.Image, opts ExtractOptions) error {
	return layer.Unpack(dir, img, opts)
}
