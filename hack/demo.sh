#!/usr/bin/env bash
# The main job on the embedded defaults: build every package of pkgs/ and
# the boot kernel on the local buildkitd (starting it if needed), check they
# rebuild bit for bit, push them to a local registry, sign them (cosign +
# notation, with SBOM and provenance attestations) and verify them; then
# assemble an image from the registry (signatures verified first) and boot
# it under QEMU, from an initrd and from an EFI disk.
set -euo pipefail
cd "$(dirname "$0")/.."
lkpkg=bin/lkpkg
export LKPKG_APK_UPSTREAM="${LKPKG_APK_UPSTREAM:-file://$(cd .. && pwd)/shared/alpine}"
port="${DEMO_REGISTRY_PORT:-5000}"
registry="127.0.0.1:$port"
work="$(mktemp -d)"
trap 'kill "${reg_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

pkgs=(pkgs/... kernels/debian-6.1/cloud)
echo "== build pkgs/ and the boot kernel (embedded buildkitd, network off, from the pinned Alpine and Debian mirrors)"
$lkpkg pkg build "${pkgs[@]}"
$lkpkg pkg build --verify-reproducible --progress quiet "${pkgs[@]}"

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
  "${pkgs[@]}"

echo "== verify (fails closed)"
for ref in $($lkpkg pkg show-tag --org "$registry/lkpkg" "${pkgs[@]}"); do
  $lkpkg verify --insecure-registry --key "$work/keys/cosign.pub" \
    --notation-policy "$work/keys/trustpolicy.json" --notation-truststore "$work/keys/truststore" \
    --require-attestation spdxjson,slsaprovenance1 "$ref"
done
echo "== assemble images/bootcheck.yml from the registry: every image verified before use"
tag() { $lkpkg pkg show-tag --org "$registry/lkpkg" "$1"; }
cat > "$work/bootcheck.yml" <<YML
kernel:
  image: $(tag kernels/debian-6.1/cloud)
  cmdline: "console=ttyS0 console=ttyAMA0"
  tar: none
init:
  - $(tag pkgs/bootcheck)
trust:
  org: [$registry/lkpkg]
  cosign:
    - match: "$registry/lkpkg/*"
      key: $work/keys/cosign.pub
YML
$lkpkg build --insecure-registry -o "$work/out" --format kernel+initrd,raw-efi \
  --bootloader "$(tag pkgs/systemd-boot)" "$work/bootcheck.yml"
cat "$work/bootcheck.lock"

echo "== boot it under QEMU: kernel+initrd, then the EFI disk (systemd-boot, OVMF)"
$lkpkg run qemu --timeout 5m --networking none --expect LKPKG-BOOT-OK "$work/out/bootcheck"
$lkpkg run qemu --timeout 5m --networking none --expect LKPKG-BOOT-OK "$work/out/bootcheck-efi.img"

echo "== cache"
$lkpkg cache ls
