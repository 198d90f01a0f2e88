#!/usr/bin/env bash
# The main job on the embedded defaults: build every package of pkgs/ on
# the local buildkitd (starting it if needed), check they rebuild bit for
# bit, then push them to a local registry, sign them (cosign + notation,
# with SBOM and provenance attestations) and verify them.
set -euo pipefail
cd "$(dirname "$0")/.."
lkpkg=bin/lkpkg
export LKPKG_APK_UPSTREAM="${LKPKG_APK_UPSTREAM:-file://$(cd .. && pwd)/shared/alpine}"
port="${DEMO_REGISTRY_PORT:-5000}"
registry="127.0.0.1:$port"
work="$(mktemp -d)"
trap 'kill "${reg_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== build pkgs/ (embedded buildkitd, network off, from the pinned Alpine mirror)"
$lkpkg pkg build pkgs/...
$lkpkg pkg build --verify-reproducible --progress quiet pkgs/...

echo "== local registry on $registry"
cat > "$work/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: $registry}
YML
bin/registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 50); do curl -fsS "http://$registry/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

echo "== keys (cosign key pair, notation test CA + signing certificate)"
export COSIGN_PASSWORD="${COSIGN_PASSWORD:-demo}"
$lkpkg keys generate --notation -d "$work/keys"
mkdir -p "$work/keys/truststore/x509/ca/lkpkg"
cp "$work/keys/ca.crt" "$work/keys/truststore/x509/ca/lkpkg/"
cat > "$work/keys/trustpolicy.json" <<JSON
{"version": "1.0", "trustPolicies": [{"name": "demo", "registryScopes": ["*"],
  "signatureVerification": {"level": "strict"}, "trustStores": ["ca:lkpkg"],
  "trustedIdentities": ["x509.subject: CN=lkpkg test signer, O=lkpkg, ST=Test, C=XX"]}]}
JSON

echo "== build for the registry's namespace, push + sign (index and every per-arch manifest, SBOM + provenance attestations)"
# The tag hashes content, not the name: same tags, same digests as above.
$lkpkg pkg build --progress quiet --org "$registry/lkpkg" --push --insecure-registry --sign \
  --key "$work/keys/cosign.key" --notation-key "$work/keys/signing.key" --notation-cert "$work/keys/signing.crt" \
  pkgs/...

echo "== verify (fails closed)"
for ref in $($lkpkg pkg show-tag --org "$registry/lkpkg" pkgs/...); do
  $lkpkg verify --insecure-registry --key "$work/keys/cosign.pub" \
    --notation-policy "$work/keys/trustpolicy.json" --notation-truststore "$work/keys/truststore" \
    --require-attestation spdxjson,slsaprovenance1 "$ref"
done
echo "== cache"
$lkpkg cache ls
