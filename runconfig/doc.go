// Package runconfig is LinuxKit's container configuration (moby.ImageConfig):
// the options a package declares in build.yml `config:` (stored as the
// org.mobyproject.config image label) and that image YAML can override.
// Field names and JSON encoding follow LinuxKit so labels stay compatible.
//
// Stage: build and compose: pkgbuild writes the label, assemble reads it
// and applies the image YAML's overrides.
package runconfig
