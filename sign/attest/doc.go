// Package attest generates the attestation documents lkpkg attaches to the
// images it builds: an SPDX 2.3 SBOM per platform image (SBOM) and a SLSA
// v1 provenance predicate per build (Provenance).
//
// Both are byte-for-byte deterministic, like the builds they describe: no
// random identifiers and no wall-clock time. The SBOM takes its creation
// time from the image config's Created field (which builds set to
// SOURCE_DATE_EPOCH) and its namespace from the image digest; provenance
// takes its timestamps from Build.SourceDateEpoch and its invocation id from
// the content tag. Rebuilding the same image therefore yields the same
// documents, so signatures over them are reproducible too.
//
// This package only produces the JSON; wrapping it in an in-toto statement,
// signing and attaching it is the signer's job. The predicate types to use
// for that are SPDXPredicateType and SLSAProvenanceType.
package attest

// Predicate types of the documents this package produces, for the in-toto
// statement the signer wraps them in.
const (
	SPDXPredicateType  = "https://spdx.dev/Document"
	SLSAProvenanceType = "https://slsa.dev/provenance/v1"
)
