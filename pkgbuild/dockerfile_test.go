package pkgbuild

import (
	"reflect"
	"strings"
	"testing"
)

func TestExternalImages(t *testing.T) {
	tests := []struct {
		name     string
		df       string
		args     map[string]string
		platform string
		want     []string
	}{
		{"scratch only", "FROM scratch\nCOPY a /a\n", nil, "linux/amd64", []string{}},
		{"plain base", "FROM alpine:3.19\n", nil, "linux/amd64", []string{"alpine:3.19"}},
		{"build arg base", "ARG BASE\nFROM ${BASE}\n", map[string]string{"BASE": "org/base:abc"}, "linux/amd64", []string{"org/base:abc"}},
		{"arg default", "ARG BASE=org/base:def\nFROM $BASE\n", nil, "linux/amd64", []string{"org/base:def"}},
		{"arg overrides default", "ARG BASE=org/base:def\nFROM $BASE\n", map[string]string{"BASE": "x:1"}, "linux/amd64", []string{"x:1"}},
		{"stages are not images", "FROM golang:1 AS build\nFROM build AS test\nFROM scratch\nCOPY --from=build /x /x\nCOPY --from=0 /y /y\n", nil, "linux/amd64", []string{"golang:1"}},
		{"stage names are case-insensitive", "FROM golang:1 AS Build\nFROM build\n", nil, "linux/amd64", []string{"golang:1"}},
		{"copy from image", "FROM scratch\nCOPY --from=org/tools:1 /bin/x /x\n", nil, "linux/amd64", []string{"org/tools:1"}},
		{"per-platform stage", "FROM scratch AS r-amd64\nFROM scratch AS r-arm64\nFROM img-${TARGETARCH}:1 AS x\nFROM r-${TARGETARCH}\n", nil, "linux/arm64", []string{"img-arm64:1"}},
		{"digest pinned", "FROM alpine@sha256:1111111111111111111111111111111111111111111111111111111111111111\n", nil, "linux/amd64",
			[]string{"alpine@sha256:1111111111111111111111111111111111111111111111111111111111111111"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := externalImages("Dockerfile", []byte(tc.df), tc.args, tc.platform)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExternalImagesErrors(t *testing.T) {
	for name, df := range map[string]string{
		"empty base":   "ARG BASE\nFROM ${BASE}\n",
		"no FROM":      "RUN true\n",
		"unterminated": "FROM ${BASE\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := externalImages("pkgs/x/Dockerfile", []byte(df), nil, "linux/amd64"); err == nil {
				t.Fatal("expected an error")
			}
		})
	}
}

func TestExternalImagesRefusesWhatWouldFetch(t *testing.T) {
	tests := map[string]struct {
		df   string
		args map[string]string
		want string
	}{
		"syntax directive":    {"# syntax=docker/dockerfile:1\nFROM scratch\n", nil, "Dockerfile:1: `# syntax=docker/dockerfile:1` is not supported"},
		"BUILDKIT_SYNTAX arg": {"FROM scratch\n", map[string]string{"BUILDKIT_SYNTAX": "x"}, "BUILDKIT_SYNTAX"},
		"ADD of a URL":        {"FROM scratch\nADD https://example.org/x.tar.gz /x\n", nil, "Dockerfile:2: ADD https://example.org/x.tar.gz fetches content"},
		"ADD of a git repo":   {"FROM scratch\nADD git@github.com:a/b.git /src\n", nil, "fetches content"},
		"ADD via an arg":      {"FROM scratch\nARG U=https://e/x\nADD ${U} /x\n", nil, "fetches content"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := externalImages("Dockerfile", []byte(tc.df), tc.args, "linux/amd64")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// Pinned by checksum, and local ADD, are fine; RUN --mount=from=IMAGE
	// is a base like FROM.
	got, err := externalImages("Dockerfile", []byte("FROM scratch\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://e/x /x\nADD local.tar.gz /\nRUN --mount=type=bind,from=org/tools:1,target=/t true\n"), nil, "linux/amd64")
	if err != nil || len(got) != 1 || got[0] != "org/tools:1" {
		t.Fatalf("got %v, %v", got, err)
	}
}
