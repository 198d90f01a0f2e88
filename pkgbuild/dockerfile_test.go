package pkgbuild

import (
	"reflect"
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
