# lkpkg — see README.md. `make demo` sets up and runs the main job; `make test` runs the tests.
GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
BUILDKIT_VERSION := $(shell $(GO) list -m -f '{{.Version}}' github.com/moby/buildkit)
# Tests find the binaries built here, whatever their working directory.
export LKPKG_BUILDKITD := $(CURDIR)/bin/buildkitd
export LKPKG_BIN       := $(CURDIR)/bin/lkpkg
export LKPKG_REGISTRY  := $(CURDIR)/bin/registry
export LKPKG_COSIGN    := $(CURDIR)/bin/cosign
export LKPKG_NOTATION  := $(CURDIR)/bin/notation
# pkgs/alpine names Alpine's CDN; here the real Alpine data beside the
# checkout stands in for it (the lock records checksums, not URLs).
APK_UPSTREAM ?= file://$(abspath $(CURDIR)/../shared/alpine)

.PHONY: all deps test test-short bench demo kernels clean FORCE

all: bin/lkpkg bin/buildkitd bin/buildctl bin/registry bin/cosign bin/notation

bin/lkpkg: FORCE
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $@ ./cmd/lkpkg

# buildkitd and buildctl come from the buildkit module pinned in go.mod
# (go.mod `tool` directives), not from a separate download.
bin/buildkitd: go.mod go.sum
	$(GO) build -trimpath -ldflags "-X github.com/moby/buildkit/version.Version=$(BUILDKIT_VERSION)" -o $@ github.com/moby/buildkit/cmd/buildkitd

bin/buildctl: go.mod go.sum
	$(GO) build -trimpath -ldflags "-X github.com/moby/buildkit/version.Version=$(BUILDKIT_VERSION)" -o $@ github.com/moby/buildkit/cmd/buildctl

# The real peers the publish/sign tests run against, from the versions
# pinned in go.mod: a CNCF distribution registry and the official cosign
# and notation CLIs (the judges of what lkpkg signs).
bin/registry: go.mod go.sum
	$(GO) build -trimpath -o $@ github.com/distribution/distribution/v3/cmd/registry

bin/cosign: go.mod go.sum
	$(GO) build -trimpath -o $@ github.com/sigstore/cosign/v2/cmd/cosign

bin/notation: go.mod go.sum
	$(GO) build -trimpath -o $@ github.com/notaryproject/notation/cmd/notation

# System packages: runc for the buildkitd worker, qemu-user-static and
# binfmt for arm64/riscv64 builds on an amd64 host.
deps:
	hack/install-deps.sh

test: all
	$(GO) test -count=1 -timeout 20m ./...

# Unit tests only: no buildkitd, no binaries.
test-short:
	$(GO) test -short ./...

bench: all
	$(GO) test -run '^$$' -bench . -benchtime 5x -timeout 20m ./cmd/lkpkg/ ./mirror/... ./manifest/ ./assemble/... 

# Slow, not in CI: the kernel inputs pinned from Debian, including the
# 140 MB linux-source-6.1 (make test builds and boots the cloud kernel).
kernels: all
	LKPKG_APK_UPSTREAM=$(APK_UPSTREAM) bin/lkpkg pkg build --progress plain kernels/...

# The main job on the embedded defaults (local buildkitd, local registry):
# build pkgs/, check it rebuilds bit for bit, push, sign, attest, verify.
demo: deps all
	LKPKG_APK_UPSTREAM=$(APK_UPSTREAM) hack/demo.sh

clean:
	rm -rf bin
