// Package notation signs and verifies OCI artifacts with Notary Project
// (notation) signatures, interoperable with the official notation CLI.
//
// Signatures are stored as OCI 1.1 referrers of the signed manifest
// (artifactType application/vnd.cncf.notary.signature). Registries without
// the referrers API (e.g. CNCF distribution v3) get the referrers tag
// schema instead: an index tagged sha256-<hex of the subject digest>.
package notation
