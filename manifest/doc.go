// Package manifest turns per-platform images into one OCI image index and
// merges indexes, deterministically: the same images always give the same
// index digest, whatever order they were built or pushed in.
//
// Stage: store → publish. Index and Merge build the index from a build's
// images (index.go); Push uploads it (push.go), merging with what the tag
// already holds (merge.go) and sending only missing blobs, in parallel
// (upload.go). How the registry is reached (credentials, the loopback-only
// insecure rule, retries) is package registry's.
package manifest
