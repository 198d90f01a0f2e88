package debfile_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/mirror/debfile"
	"github.com/lkpkg/lkpkg/mirror/debfile/debtest"
)

// TestCheckIdentity checks that the fields a package's dpkg database
// file names are built from cannot carry a path: Package, Version and
// Architecture follow dpkg's and policy's syntax or are refused, naming
// the bad value.
func TestCheckIdentity(t *testing.T) {
	tests := []struct {
		name, version, arch string
		err                 []string // nil: valid
	}{
		{name: "hello", version: "1.0", arch: "amd64"},
		{name: "libstdc++6", version: "12.2.0-14", arch: "arm64"},
		{name: "g++-12", version: "1:2.36-9+deb12u10~bpo1", arch: "all"},
		{name: "0ad", version: "0.0.26-3", arch: "hurd-i386"},
		{name: "tzdata", version: "2024a-0+deb12u1", arch: "all"},
		{name: "x", version: "1", arch: "all", err: []string{`Package "x"`, "at least two characters"}},
		{name: "../../../../tmp/x", version: "1", arch: "amd64", err: []string{`Package "../../../../tmp/x" is not a valid package name`}},
		{name: "evil/name", version: "1", arch: "amd64", err: []string{`Package "evil/name"`}},
		{name: "Upper", version: "1", arch: "amd64", err: []string{`Package "Upper"`, "lowercase"}},
		{name: "-dash", version: "1", arch: "amd64", err: []string{`Package "-dash"`}},
		{name: "a:b", version: "1", arch: "amd64", err: []string{`Package "a:b"`, `character ':'`}},
		{name: "hello", version: "1/../../x", arch: "amd64", err: []string{"package hello:", `Version "1/../../x" is not a valid version`, `character '/'`}},
		{name: "hello", version: "v1", arch: "amd64", err: []string{`Version "v1"`, "start with a digit"}},
		{name: "hello", version: "a:1", arch: "amd64", err: []string{"epoch is not a number"}},
		{name: "hello", version: "1:", arch: "amd64", err: []string{"nothing after"}},
		{name: "hello", version: "1.0-", arch: "amd64", err: []string{"revision"}},
		{name: "hello", version: "1.0-1_2", arch: "amd64", err: []string{`character '_' in the revision`}},
		{name: "hello", version: "1.0-1:2", arch: "amd64", err: []string{"epoch is not a number"}},
		{name: "hello", version: "99999999999:1", arch: "amd64", err: []string{"epoch is too big"}},
		{name: "hello", version: "1", arch: "../../x", err: []string{"package hello:", `Architecture "../../x" is not a valid architecture`}},
		{name: "hello", version: "1", arch: "amd64/x", err: []string{`Architecture "amd64/x"`, `character '/'`}},
		{name: "hello", version: "1", arch: "AMD64", err: []string{`Architecture "AMD64"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_"+tt.version+"_"+tt.arch, func(t *testing.T) {
			d := openBuilt(t, debtest.Deb{
				Control: "Package: " + tt.name + "\nVersion: " + tt.version + "\nArchitecture: " + tt.arch + "\nDescription: d\n",
				Files:   helloFiles,
			})
			err := d.CheckIdentity()
			if tt.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.err {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
	for _, missing := range []string{"Package", "Version", "Architecture"} {
		t.Run("no "+missing, func(t *testing.T) {
			ctl := ""
			for _, f := range []string{"Package: hello", "Version: 1", "Architecture: amd64"} {
				if !strings.HasPrefix(f, missing+":") {
					ctl += f + "\n"
				}
			}
			d := openBuilt(t, debtest.Deb{Control: ctl + "Description: d\n", Files: helloFiles})
			if err := d.CheckIdentity(); err == nil || !strings.Contains(err.Error(), "no "+missing+" field") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// openBuilt builds spec and opens the result.
func openBuilt(t *testing.T, spec debtest.Deb) *debfile.Deb {
	t.Helper()
	b, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	d, err := debfile.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
