// Package cosign signs and attests OCI manifests and indexes the way the
// official cosign CLI does with a key pair (`cosign sign --key`, `cosign
// attest --key`), and verifies what it or the CLI stored.
//
// Everything here is key-based and offline: nothing is uploaded to a
// transparency log (Rekor) and no certificate is requested from Fulcio.
// Signatures are stored in the legacy cosign layout the CLI reads by
// default: for a manifest with digest sha256:<hex>, a signature manifest
// tagged sha256-<hex>.sig in the same repository (one layer per signature,
// media type application/vnd.dev.cosign.simplesigning.v1+json, the
// simplesigning payload as the layer and the base64 signature in the
// dev.cosignproject.cosign/signature annotation), and attestations tagged
// sha256-<hex>.att (one layer per DSSE envelope, media type
// application/vnd.dsse.envelope.v1+json, with a predicateType annotation).
// The CLI therefore verifies them with `--insecure-ignore-tlog=true`.
//
// The formats come from cosign's and sigstore's own libraries (payload,
// static, mutate, ociremote, dsse, attestation); this package only wires
// them together.
package cosign
