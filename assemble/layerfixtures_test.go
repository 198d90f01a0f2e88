package assemble

// Hand-built layers for assemble's tests: layertest's builders under the
// names these tests have always used.

import "github.com/lkpkg/lkpkg/assemble/layer/layertest"

type extractTE = layertest.Entry

var (
	extractFile  = layertest.File
	extractDir   = layertest.Dir
	extractSym   = layertest.Sym
	extractTar   = layertest.Tar
	extractLayer = layertest.Layer
)
