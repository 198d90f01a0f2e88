// Command lkpkg builds, caches, publishes and assembles LinuxKit-style
// packages and images. It parses flags and reads the environment (env.go,
// the only place that does), turns them into a library's Options, makes
// one call and prints the result; the work is done by the libraries
// (pkgbuild, pkgbuild/buildkitd, cache, manifest, ...).
package main
