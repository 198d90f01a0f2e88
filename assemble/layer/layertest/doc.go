// Package layertest is test support for the layer stage: it builds image
// layers by hand for tests of layer flattening and of what is built from
// flattened layers (assemble's tests, the output writers').
package layertest
