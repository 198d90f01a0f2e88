// Package testenv gives integration tests the real parts they run
// against: a private buildkitd, the lkpkg binary and the shared Alpine
// data. Missing parts fail the test (they are installed by `make` and
// .ci/run); only `go test -short` skips integration tests.
package testenv
