package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A package built for amd64 and arm64 FROM --platform=$BUILDPLATFORM a
// tree package that exists for amd64 only (a cross toolchain) builds,
// pushes and signs: its arm64 provenance records the tool's index, from
// which BuildKit took the builder's platform.
func TestPushSignsPackageWithBuilderOnlyBase(t *testing.T) {
	reg, l, keys := publishSetup(t)
	root := t.TempDir()
	writePkg(t, filepath.Join(root, "tool"), pkgSpec{image: "tool", files: map[string]string{"x": "a tool\n"}})
	writePkg(t, filepath.Join(root, "cross"), pkgSpec{image: "cross", arches: []string{"amd64", "arm64"}, dep: "../tool",
		df: "ARG BASE\nFROM --platform=$BUILDPLATFORM ${BASE} AS tool\nFROM scratch\nCOPY --from=tool /tool/x /x\n"})
	org := reg + "/lkpkg"
	args := append([]string{"pkg", "build", "--progress", "quiet", "--org", org, root + "/...", "--push", "--insecure-registry", "--sign"}, keys.signArgs()...)
	r := l.ok(args...)
	built := builtRefs(t, r)
	cross, ok := built["cross"]
	if !ok {
		t.Fatalf("cross not built:\n%s", r)
	}
	v := l.ok("verify", "--insecure-registry", "--key", keys.cosignPub, "--require-attestation", "spdxjson,slsaprovenance1", cross[0])
	if !strings.Contains(v.stdout, "linux/arm64") {
		t.Fatalf("verify did not cover linux/arm64:\n%s", v)
	}
}
