// Package buildkitd decides where lkpkg's builds run: it manages the
// embedded local buildkitd daemon and maps platforms to remote ones.
//
// By default builds go to the embedded local Daemon that lkpkg starts
// once (detached, so it outlives the lkpkg process and keeps its cache
// warm) and then reuses; a use lease (Acquire) keeps Stop and Prune away
// while builds run. For scale-out, a Mapping (the --builder flag) routes
// platforms to remote buildkitd addresses. The package reads no
// environment variables: StateDirEnv and BinaryEnv are read by cmd/lkpkg.
package buildkitd
