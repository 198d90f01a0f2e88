package rootfs

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/mirror/debfile/debtest"
)

// TestInstallRefusesEscapingNames covers the names that maintainer
// scripts and control files put into paths of the root: alternative
// names (/etc/alternatives/NAME, /var/lib/dpkg/alternatives/NAME) and
// Package, Architecture and Version (/var/lib/dpkg/info/NAME:ARCH.list,
// the status file). A hostile package must not get an entry outside the
// root into the tar: Install refuses it, naming the package, its .deb and
// the bad value.
func TestInstallRefusesEscapingNames(t *testing.T) {
	tool := []debtest.File{{Name: "./usr/bin/tool", Body: "x", Mode: 0o755}}
	tests := []struct {
		name string
		pkg  synth
		err  []string
	}{{
		name: "alternative name with dot-dot",
		pkg: synth{name: "evil", version: "1", files: tool,
			postinst: "update-alternatives --install /usr/bin/x ../../../../../../tmp/pwned /usr/bin/tool 10\n"},
		err: []string{"package evil 1 (the .deb at ", "/evil_1_amd64.deb)", `refusing alternative name "../../../../../../tmp/pwned"`},
	}, {
		name: "slave alternative name with dot-dot",
		pkg: synth{name: "evil", version: "1", files: tool,
			postinst: "update-alternatives --install /usr/bin/x x /usr/bin/tool 10 --slave /usr/bin/y ../../../../../../tmp/pwned /usr/bin/tool\n"},
		err: []string{"package evil 1 (the .deb at ", `refusing alternative name "../../../../../../tmp/pwned"`},
	}, {
		name: "alternative name dot-dot",
		pkg: synth{name: "evil", version: "1", files: tool,
			postinst: "update-alternatives --install /usr/bin/x .. /usr/bin/tool 10\n"},
		err: []string{"package evil 1", `refusing alternative name ".."`},
	}, {
		name: "Package with dot-dot",
		pkg:  synth{name: "../../../../../../tmp/x", version: "1", files: tool, file: "x.deb"},
		err:  []string{"the .deb at ", "/x.deb: ", `Package "../../../../../../tmp/x" is not a valid package name`},
	}, {
		name: "Package with a slash",
		pkg:  synth{name: "evil/x", version: "1", files: tool, file: "x.deb"},
		err:  []string{"/x.deb: ", `Package "evil/x"`},
	}, {
		name: "Architecture with dot-dot, Multi-Arch: same",
		pkg:  synth{name: "evil", version: "1", arch: "../../../../../../tmp/x", extra: "Multi-Arch: same\n", files: tool, file: "x.deb"},
		err:  []string{"/x.deb: ", "package evil: ", `Architecture "../../../../../../tmp/x" is not a valid architecture`},
	}, {
		name: "Version with a slash",
		pkg:  synth{name: "evil", version: "1/../../x", files: tool, file: "x.deb"},
		err:  []string{"/x.deb: ", "package evil: ", `Version "1/../../x" is not a valid version`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { installRefused(t, tt.err, tt.pkg) })
	}
}

// installRefused installs pkgs and checks that Install fails with an
// error mentioning each of want, having written no entry outside the root.
func installRefused(t *testing.T, want []string, pkgs ...synth) {
	t.Helper()
	out, _, err := installSynth(t, pkgs...)
	if bad := dotDotEntries(t, out); len(bad) > 0 {
		t.Errorf("entries outside the root: %q", bad)
	}
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

// dotDotEntries lists the entries of an output tar with a ".." element.
func dotDotEntries(t *testing.T, b []byte) []string {
	t.Helper()
	var bad []string
	_, names := readOut(t, b)
	for _, name := range names {
		if slices.Contains(strings.Split(name, "/"), "..") {
			bad = append(bad, name)
		}
	}
	return bad
}

// TestWriteRefusesEscapingEntries is the tar writer's own defence: an
// entry that reached the tree with a name that is not a clean relative
// path inside the root is never written.
func TestWriteRefusesEscapingEntries(t *testing.T) {
	for _, name := range []string{
		"etc/alternatives/../../../tmp/pwned", "../x", "..", "var/lib/dpkg/info/..", "/etc/passwd",
		"", ".", "usr//bin", "usr/./bin", "usr/bin/", "./usr", "a\x00b",
	} {
		t.Run(name, func(t *testing.T) {
			sp, err := newSpool(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Close()
			tr := newTree(sp, time.Unix(0, 0))
			tr.put(dir("etc", 0o755))
			if err := tr.putFile(name, 0o644, []byte("x")); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			_, err = tr.write(&out)
			if err == nil || !strings.Contains(err.Error(), "refusing tar entry") {
				t.Fatalf("err = %v", err)
			}
		})
	}
	for _, name := range []string{"etc", "etc/x", "usr/share/..x", "a..b/c", "x/.hidden"} {
		if err := checkEntryName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
}

// TestInstallErrorsNameThePackage checks that errors say which package,
// not only which cache blob: "the .deb at PATH" while the control file is
// unreadable, "package NAME VERSION (the .deb at PATH)" once it is read.
func TestInstallErrorsNameThePackage(t *testing.T) {
	dir := t.TempDir()
	blob := dir + "/0123abcd"
	if err := os.WriteFile(blob, []byte("!<arch>\nnot a deb"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Install(&bytes.Buffer{}, []string{blob}, Options{Arch: "amd64"})
	if err == nil || !strings.Contains(err.Error(), "the .deb at "+blob+": ") {
		t.Fatalf("err = %v", err)
	}
	_, _, err = installSynth(t, synth{name: "tool", version: "2.0-1", file: "fedcba98",
		files: []debtest.File{reg("./../etc/passwd", "x")}})
	if err == nil || !strings.Contains(err.Error(), "package tool 2.0-1 (the .deb at ") || !strings.Contains(err.Error(), "/fedcba98): ") {
		t.Fatalf("err = %v", err)
	}
	_, _, err = installSynth(t, synth{name: "tool", version: "1", file: "fedcba98", extra: "Replaces: (((\n"})
	if err == nil || !strings.Contains(err.Error(), "package tool 1 (the .deb at ") || !strings.Contains(err.Error(), "Replaces") {
		t.Fatalf("err = %v", err)
	}
}
