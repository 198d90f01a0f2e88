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
		{"unknown field", good + "pakages: [x]\n", "field pakages not found"},
		{"no upstream", strings.Replace(good, "upstream: https://x/alpine\n", "", 1), `"upstream"`},
		{"bad upstream scheme", strings.Replace(good, "https://x/alpine", "ftp://x", 1), "http://"},
		{"unknown arch", strings.Replace(good, "[x86_64]", "[x86-64]", 1), `unknown apk arch "x86-64"`},
		{"extra for another arch", good + "extra:\n  aarch64: [x]\n", `arch "aarch64" is not in arches`},
		{"repository escaping upstream", strings.Replace(good, "v3.19/main", "../main", 1), `"repositories"`},
		{"no packages", strings.Replace(good, "packages: [musl]\n", "", 1), `"packages"`},
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
