// Package pkgbuild is the build stage: it turns package directories
// (build.yml + Dockerfile) into multi-arch OCI indexes in the local cache.
//
// Loader reads build.yml strictly, collects the exact build context and
// computes each package's content-addressed tag (tag.go) without any
// daemon or network. Scheduler builds one package (Build) or a whole tree
// in dependency order (BuildAll, BuildTree), solving through BuildKit on
// the daemons that Daemons hands out: remote ones named by a
// buildkitd.Mapping, else the embedded local buildkitd.Daemon. A package
// whose tag is already in the cache is not built again unless
// Options.Rebuild.
//
// The package reads no environment variables; cmd/lkpkg passes every
// setting as an option.
package pkgbuild
