package strictyaml_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/assemble"
	"github.com/lkpkg/lkpkg/internal/strictyaml"
	"github.com/lkpkg/lkpkg/mirror"
	"github.com/lkpkg/lkpkg/pkgbuild"
)

// fileKind is one of the YAML files lkpkg reads, with its parser.
type fileKind struct {
	file  string
	parse func(file string, data []byte) error
	// list is a list-valued field an alias bomb can hide in.
	list string
}

var kinds = map[string]fileKind{
	"build.yml":  {"pkgs/x/build.yml", func(f string, d []byte) error { _, err := pkgbuild.ParseBuildYML(f, d); return err }, "arches"},
	"mirror.yml": {"pkgs/x/mirror.yml", func(f string, d []byte) error { _, err := mirror.ParseConfig(f, d); return err }, "packages"},
	"image YAML": {"images/x.yml", func(f string, d []byte) error { _, err := assemble.ParseImage(f, d); return err }, "services"},
	"mirror.lock": {"pkgs/x/mirror.lock", func(f string, d []byte) error {
		var l mirror.Lock
		return strictyaml.Decode(f, d, &l, strictyaml.Options{})
	}, "indexes"},
}

// TestBadInputs: every file kind fails each way with one error shape,
// file:line: field.path: what was expected, and fails fast.
func TestBadInputs(t *testing.T) {
	const mirrorOK = "image: alpine\nupstream: https://x/alpine\nrepositories: [v3.19/main]\nkeys: keys\narches: [x86_64]\npackages: [musl]\nsigning-key: k.rsa.pub\n"
	tests := []struct {
		kind, name, yaml string
		want             string // exact prefix of the message
	}{
		{"build.yml", "wrong type", "image: foo\narches: amd64\n", `pkgs/x/build.yml:2: arches: expected a list of strings, got "amd64"`},
		{"build.yml", "unknown field", "image: foo\nimage_name: bar\n", `pkgs/x/build.yml:2: image_name: unknown field`},
		{"build.yml", "bad value", "image: foo\narches: [amd64, sparc]\n", `pkgs/x/build.yml:2: arches[1]: unknown arch "sparc"`},
		{"build.yml", "duplicate key", "image: foo\norg: a\norg: b\n", `pkgs/x/build.yml:3: org: set twice (first at line 2)`},
		{"build.yml", "nested wrong type", "image: foo\nconfig:\n  net: [host]\n", `pkgs/x/build.yml:3: config.net: expected a string, got a list`},
		{"mirror.yml", "wrong type", mirrorOK + "extra: [x]\n", `pkgs/x/mirror.yml:8: extra: expected a mapping, got a list`},
		{"mirror.yml", "unknown field", mirrorOK + "pakages: [x]\n", `pkgs/x/mirror.yml:8: pakages: unknown field (did you mean "packages"?)`},
		{"mirror.yml", "bad value", strings.Replace(mirrorOK, "[x86_64]", "[x86_64, sparc]", 1), `pkgs/x/mirror.yml:5: arches[1]: unknown apk arch "sparc"`},
		{"mirror.yml", "duplicate key", mirrorOK + "keys: other\n", `pkgs/x/mirror.yml:8: keys: set twice (first at line 4)`},
		{"mirror.yml", "nested unknown field", "image: x\ngo:\n  arches: [amd64]\n  toolchain: go1.26.8\n  proxi: x\n", `pkgs/x/mirror.yml:5: go.proxi: unknown field (did you mean "proxy"?)`},
		{"image YAML", "wrong type", "services:\n  - name: a\n    image: b\n    capabilities: CAP_NET_ADMIN\n", `images/x.yml:4: services[0].capabilities: expected a list of strings, got "CAP_NET_ADMIN"`},
		{"image YAML", "unknown field", "services:\n  - name: a\n    image: b\n    capabilites: [CAP_NET_ADMIN]\n", `images/x.yml:4: services[0].capabilites: unknown field (did you mean "capabilities"?)`},
		{"image YAML", "bad value", "services:\n  - name: a\n    image: b\n    capabilities: [NET_ADMIN]\n", `images/x.yml:4: services[0].capabilities[0]: "NET_ADMIN" is not a capability`},
		{"image YAML", "duplicate key", "services:\n  - name: a\n    image: b\n    name: c\n", `images/x.yml:4: services[0].name: set twice (first at line 2)`},
		{"mirror.lock", "wrong type", "version: one\n", `pkgs/x/mirror.lock:1: version: expected an integer, got "one"`},
		{"mirror.lock", "unknown field", "version: 1\nverison: 1\n", `pkgs/x/mirror.lock:2: verison: unknown field (did you mean "version"?)`},
	}
	for name, k := range kinds {
		tests = append(tests,
			struct{ kind, name, yaml, want string }{name, "alias bomb", strictyaml.Bomb(k.list), k.file + ":"},
			struct{ kind, name, yaml, want string }{name, "oversize", "#" + strings.Repeat("x", strictyaml.MaxBytes), k.file + ": is 4194305 bytes; a YAML file may be at most 4 MiB"},
		)
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			start := time.Now()
			err := kinds[tt.kind].parse(kinds[tt.kind].file, []byte(tt.yaml))
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("took %v: bad input must fail fast", d)
			}
			ye, ok := err.(*strictyaml.Error) // returned as is, never wrapped
			if !ok {
				t.Fatalf("error %v (%T), want *strictyaml.Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q\nwant prefix  %q", err, tt.want)
			}
			if tt.name == "alias bomb" && (ye.Line == 0 || !strings.Contains(ye.Msg, "add more than")) {
				t.Errorf("alias bomb error %q does not name the line and the budget", err)
			}
		})
	}
}

// TestRepositoryFiles decodes every YAML file of the repository with the
// decoder of its kind.
func TestRepositoryFiles(t *testing.T) {
	root := filepath.Join("..", "..")
	n := 0
	for _, dir := range []string{"images", "pkgs", "kernels"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			var kind string
			switch base := d.Name(); {
			case base == "build.yml":
				kind = "build.yml"
			case base == "mirror.yml":
				kind = "mirror.yml"
			case base == "mirror.lock":
				kind = "mirror.lock"
			case dir == "images" && (strings.HasSuffix(base, ".yml") || strings.HasSuffix(base, ".yaml")):
				kind = "image YAML"
			default:
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n++
			if err := kinds[kind].parse(p, data); err != nil {
				t.Errorf("%s (%s): %v", p, kind, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 10 {
		t.Fatalf("decoded only %d files: the walk missed the repository's YAML", n)
	}
}
