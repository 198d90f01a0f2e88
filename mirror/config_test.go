package mirror

import (
	"strings"
	"testing"
)

func TestParseConfigErrors(t *testing.T) {
	good := "image: alpine\nupstream: https://x/alpine\nrepositories: [v3.19/main]\nkeys: keys\narches: [x86_64]\npackages: [musl]\nsigning-key: k.rsa.pub\n"
	if _, err := ParseConfig("pkgs/alpine/mirror.yml", []byte(good)); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct{ name, yml, want string }{
		{"empty", "", "empty"},
		{"unknown field", good + "pakages: [x]\n", "mirror.yml:8: pakages: unknown field"},
		{"no upstream", strings.Replace(good, "upstream: https://x/alpine\n", "", 1), `mirror.yml: upstream: is required`},
		{"bad upstream scheme", strings.Replace(good, "https://x/alpine", "ftp://x", 1), "http://"},
		{"unknown arch", strings.Replace(good, "[x86_64]", "[x86-64]", 1), `mirror.yml:5: arches[0]: unknown apk arch "x86-64"`},
		{"extra for another arch", good + "extra:\n  aarch64: [x]\n", `extra.aarch64: arch "aarch64" is not in arches`},
		{"repository escaping upstream", strings.Replace(good, "v3.19/main", "../main", 1), `mirror.yml:3: repositories[0]: "../main" must be a path below upstream`},
		{"no packages", strings.Replace(good, "packages: [musl]\n", "", 1), `mirror.yml: packages: at least one package is required`},
		{"no signing key", strings.Replace(good, "signing-key: k.rsa.pub\n", "", 1), "mirror keygen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("pkgs/alpine/mirror.yml", []byte(tc.yml))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "pkgs/alpine/mirror.yml") {
				t.Fatalf("error %v, want one naming the file and containing %q", err, tc.want)
			}
		})
	}
}

func TestParseConfigDebianAndGo(t *testing.T) {
	deb := "image: tc\ndebian:\n  sources:\n    - url: http://deb.debian.org/debian\n      suite: bookworm\n      components: [main]\n  keyring: keys\n  arches: [amd64]\n  packages: [gcc]\n"
	goc := "image: go\ngo:\n  arches: [amd64, arm64]\n  toolchain: go1.26.8\n  modules: [github.com/opencontainers/runc@v1.5.2]\n"
	for _, good := range []string{deb, goc, deb + "go:\n  arches: [amd64]\n  toolchain: go1.26.8\n"} {
		c, err := ParseConfig("m/mirror.yml", []byte(good))
		if err != nil {
			t.Fatalf("good config %q: %v", good, err)
		}
		if c.HasAlpine() {
			t.Fatalf("no Alpine section expected")
		}
	}
	tests := []struct{ name, yml, want string }{
		{"nothing", "image: x\n", "nothing to mirror"},
		{"no sources", strings.Replace(deb, "  sources:\n    - url: http://deb.debian.org/debian\n      suite: bookworm\n      components: [main]\n", "", 1), `mirror.yml:2: debian.sources: at least one is required`},
		{"bad url", strings.Replace(deb, "http://deb", "ftp://deb", 1), `mirror.yml:4: debian.sources[0].url: "ftp://`},
		{"no components", strings.Replace(deb, "      components: [main]\n", "", 1), `: debian.sources[0].components: at least one`},
		{"bad suite", strings.Replace(deb, "suite: bookworm", "suite: ../x", 1), `mirror.yml:5: debian.sources[0].suite: "../x"`},
		{"no keyring", strings.Replace(deb, "  keyring: keys\n", "", 1), `: debian.keyring: a file or directory`},
		{"unknown dpkg arch", strings.Replace(deb, "[amd64]", "[x86_64]", 1), `mirror.yml:8: debian.arches[0]: unknown dpkg arch "x86_64"`},
		{"extra for another arch", deb + "  extra:\n    arm64: [x]\n", `mirror.yml:11: debian.extra.arm64: arch "arm64" is not in debian.arches`},
		{"bad env", deb + "  env: [NOEQUALS]\n", `mirror.yml:10: debian.env[0]: "NOEQUALS": want NAME=value`},
		{"unknown debian field", deb + "  packges: [x]\n", `mirror.yml:10: debian.packges: unknown field (did you mean "packages"?)`},
		{"go without arches", "image: go\ngo:\n  toolchain: go1.26.8\n", `mirror.yml:2: go.arches: at least one GOARCH`},
		{"bad toolchain", strings.Replace(goc, "go1.26.8", "1.26", 1), `mirror.yml:4: go.toolchain: "1.26"`},
		{"module without version", strings.Replace(goc, "@v1.5.2", "", 1), "want module@version"},
		{"bad module version", strings.Replace(goc, "@v1.5.2", "@latest", 1), `mirror.yml:5: go.modules[0]: `},
		{"arches disagree", deb + "go:\n  arches: [arm64]\n  toolchain: go1.26.8\n", "every section must build the same arches"},
		{"debian install over alpine rootfs", "image: x\nupstream: https://x/alpine\nrepositories: [v3.19/main]\nkeys: keys\narches: [x86_64]\npackages: [musl]\nsigning-key: k.rsa.pub\nrootfs:\n  x86_64: r.tar.gz\n" + strings.TrimPrefix(deb, "image: tc\n"), "cannot be combined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("m/mirror.yml", []byte(tc.yml))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "m/mirror.yml") {
				t.Fatalf("error %v, want one naming the file and containing %q", err, tc.want)
			}
		})
	}
}
