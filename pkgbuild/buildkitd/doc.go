// Package buildkitd decides where lkpkg's builds run.
//
// By default builds go to an embedded local buildkitd that lkpkg starts
// once (detached, so it outlives the lkpkg process and keeps its cache warm)
// and then reuses. For scale-out, a Mapping routes platforms to remote
// buildkitd addresses.
package buildkitd
