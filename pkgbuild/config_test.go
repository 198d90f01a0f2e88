package pkgbuild

import (
	"strings"
	"testing"
)

func TestParseBuildYML(t *testing.T) {
	tests := []struct {
		name    string
		yml     string
		wantErr string // substring; "" = valid
	}{
		{"minimal", "image: foo\n", ""},
		{"full", `image: dhcpcd
org: linuxkit
tag: "6.6-{{.Hash}}"
dockerfile: Dockerfile.alt
arches: [amd64, arm64, riscv64]
extra-sources: ["../src:src"]
gitrepo: https://example.org/x
network: true
disable-cache: true
disable-content-trust: true
config:
  binds: ["/etc:/hostetc"]
  capabilities: [CAP_NET_ADMIN]
  net: host
buildArgs: ["A=1", "B=@lkt:pkg:../base"]
depends:
  docker-images:
    target-dir: images
    list: ["alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000"]
source-date-epoch: 0
`, ""},
		{"empty file", "", "build.yml: file is empty"},
		{"malformed yaml", "image: [foo\n", "build.yml:"},
		{"unknown field", "image: foo\nimage_name: bar\n", "build.yml:2: image_name: unknown field"},
		{"unknown config field", "image: foo\nconfig:\n  bindz: []\n", `build.yml:3: config.bindz: unknown field (did you mean "binds"?)`},
		{"wrong type", "image: foo\nnetwork: maybe\n", "build.yml:2:"},
		{"missing image", "org: foo\n", `build.yml: image: is required`},
		{"bad image name", "image: Foo\n", `build.yml:1: image: "Foo" is not a valid image name`},
		{"unknown arch", "image: foo\narches:\n  - amd64\n  - sparc\n", `build.yml:4: arches[1]: unknown arch "sparc"`},
		{"duplicate arch", "image: foo\narches: [amd64, amd64]\n", `listed twice`},
		{"bad extra source", "image: foo\nextra-sources:\n  - nocolon\n", `build.yml:3: extra-sources[0]: "nocolon" must be SRC:DST`},
		{"escaping extra dest", "image: foo\nextra-sources: [\"a:../b\"]\n", `must be a relative path inside`},
		{"bad build arg", "image: foo\nbuildArgs: [\"1A=x\"]\n", `build.yml:2: buildArgs[0]: "1A=x" must be NAME=VALUE`},
		{"bad tag", "image: foo\ntag: \"a b\"\n", `build.yml:2: tag: "a b" must contain {{.Hash}}`},
		{"dockerfile outside", "image: foo\ndockerfile: ../Dockerfile\n", `build.yml:2: dockerfile: "../Dockerfile" must be a path inside`},
		{"depends both lists", "image: foo\ndepends:\n  docker-images:\n    target: a.tar\n    from-file: f\n    list: [x]\n", "mutually exclusive"},
		{"negative epoch", "image: foo\nsource-date-epoch: -1\n", "non-negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBuildYML("pkgs/x/build.yml", []byte(tc.yml))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("expected error containing %q, got none", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), "pkgs/x/build.yml") {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}
