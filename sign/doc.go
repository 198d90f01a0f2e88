// Package sign signs and verifies multi-arch images in a registry with
// cosign and/or Notary Project signatures: the index and every
// per-platform manifest, plus signed attestations (SBOM, provenance) on
// each per-platform manifest. Verification fails closed.
//
// The formats come from the official libraries (sign/cosign wraps
// sigstore/cosign, sign/notation wraps notation-go); this package only
// decides what gets signed and what a verification must cover.
//
// Stage: publish/sign → verify. policy.go decides what a push signs (the
// merged index and only this host's platforms) and which attestations
// each image carries; registry access goes through package registry.
package sign
