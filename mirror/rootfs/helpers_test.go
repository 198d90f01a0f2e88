package rootfs

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/mirror/debfile"
	"github.com/lkpkg/lkpkg/mirror/debfile/debtest"
)

var sde = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// synth is a synthetic package for tests.
type synth struct {
	name, version string
	extra         string // more control fields, "Name: value\n" lines
	arch          string // "" means amd64
	postinst      string
	files         []debtest.File
	file          string // the .deb's file name; "" means NAME_VERSION_ARCH.deb
}

// write builds the package into dir and returns its path.
func (s synth) write(t *testing.T, dir string) string {
	t.Helper()
	arch := s.arch
	if arch == "" {
		arch = "amd64"
	}
	d := debtest.Deb{
		Control: fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\n%sDescription: test package\n synthetic\n",
			s.name, s.version, arch, s.extra),
		Files: s.files, DataCompression: ".gz",
	}
	if s.postinst != "" {
		d.Scripts = map[string]string{"postinst": s.postinst}
	}
	file := s.file
	if file == "" {
		file = fmt.Sprintf("%s_%s_%s.deb", s.name, s.version, arch)
	}
	return debtest.Write(t, dir, file, d)
}

// installSynth writes the packages and installs them, in order.
func installSynth(t *testing.T, pkgs ...synth) ([]byte, *Result, error) {
	t.Helper()
	dir := t.TempDir()
	var debs []string
	for _, p := range pkgs {
		debs = append(debs, p.write(t, dir))
	}
	var b bytes.Buffer
	res, err := Install(&b, debs, Options{Arch: "amd64", SourceDateEpoch: sde})
	return b.Bytes(), res, err
}

// outEntry is one entry of an output tar.
type outEntry struct {
	hdr  *tar.Header
	body string
}

// readOut reads an output tar by path (without the directories' "/")
// and returns the paths in tar order too.
func readOut(t *testing.T, b []byte) (map[string]outEntry, []string) {
	t.Helper()
	out := map[string]outEntry{}
	var order []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, order
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if _, dup := out[name]; dup {
			t.Fatalf("%s twice in the tar", name)
		}
		out[name] = outEntry{h, string(body)}
		order = append(order, name)
	}
}

// status parses var/lib/dpkg/status into stanzas by package name.
func status(t *testing.T, out map[string]outEntry) map[string]map[string]string {
	t.Helper()
	got := map[string]map[string]string{}
	for _, stanza := range strings.Split(strings.TrimSpace(out["var/lib/dpkg/status"].body), "\n\n") {
		f, _, err := debfile.ParseControl([]byte(stanza))
		if err != nil {
			t.Fatalf("status: %v\n%s", err, stanza)
		}
		got[f["Package"]] = f
	}
	return got
}

// reg is a regular file; dirs are filled in by Install.
func reg(name, body string) debtest.File { return debtest.File{Name: name, Body: body} }
