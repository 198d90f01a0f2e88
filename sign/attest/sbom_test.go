package attest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// minirootfsInstalled returns lib/apk/db/installed of the real Alpine
// 3.19.4 x86_64 minirootfs.
func minirootfsInstalled(t testing.TB) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.AlpineDir(t), "minirootfs", "alpine-minirootfs-3.19.4-x86_64.tar.gz"))
	if err != nil {
		t.Fatalf("real Alpine data not found (set LKPKG_ALPINE_DIR): %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("minirootfs has no ./lib/apk/db/installed")
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "./lib/apk/db/installed" {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// file is one layer entry; data nil with dir set makes a directory.
type file struct {
	name string
	data string
	dir  bool
}

// layer makes a gzipped tarball layer holding files.
func layer(t testing.TB, files ...file) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: mtime, Typeflag: tar.TypeReg}
		if f.dir {
			h = &tar.Header{Name: f.name, Mode: 0o755, ModTime: mtime, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var created = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// image stacks layers (bottom first) with config Created = created.
func image(t testing.TB, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.Created = v1.Time{Time: created}
	cfg.OS, cfg.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func alpineLayer(t testing.TB) v1.Layer {
	return layer(t,
		file{name: "./lib/", dir: true},
		file{name: "./lib/apk/", dir: true},
		file{name: "./lib/apk/db/", dir: true},
		file{name: "./lib/apk/db/installed", data: string(minirootfsInstalled(t))},
		file{name: "./etc/alpine-release", data: "3.19.4\n"},
	)
}

// parsed is the subset of SPDX the tests read back.
type parsed struct {
	SPDXVersion       string `json:"spdxVersion"`
	DataLicense       string `json:"dataLicense"`
	SPDXID            string `json:"SPDXID"`
	Name              string `json:"name"`
	DocumentNamespace string `json:"documentNamespace"`
	CreationInfo      struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	} `json:"creationInfo"`
	Packages []struct {
		SPDXID           string `json:"SPDXID"`
		Name             string `json:"name"`
		VersionInfo      string `json:"versionInfo"`
		Supplier         string `json:"supplier"`
		Originator       string `json:"originator"`
		DownloadLocation string `json:"downloadLocation"`
		FilesAnalyzed    *bool  `json:"filesAnalyzed"`
		LicenseDeclared  string `json:"licenseDeclared"`
		ExternalRefs     []struct {
			Category string `json:"referenceCategory"`
			Type     string `json:"referenceType"`
			Locator  string `json:"referenceLocator"`
		} `json:"externalRefs"`
	} `json:"packages"`
	Relationships []struct {
		Element string `json:"spdxElementId"`
		Type    string `json:"relationshipType"`
		Related string `json:"relatedSpdxElement"`
	} `json:"relationships"`
	ExtractedLicenses []struct {
		LicenseID     string `json:"licenseId"`
		ExtractedText string `json:"extractedText"`
	} `json:"hasExtractedLicensingInfos"`
}

// sbom runs SBOM and checks the SPDX 2.3 structure every document must have.
func sbom(t *testing.T, img v1.Image, name string) (parsed, []byte) {
	t.Helper()
	out, err := SBOM(img, name)
	if err != nil {
		t.Fatalf("SBOM: %v", err)
	}
	var doc parsed
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("SBOM output is not JSON: %v\n%s", err, out)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}

	// Required document fields.
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXID != "SPDXRef-DOCUMENT" {
		t.Errorf("header = %q %q %q", doc.SPDXVersion, doc.DataLicense, doc.SPDXID)
	}
	if doc.Name == "" || doc.DocumentNamespace == "" {
		t.Errorf("name %q, documentNamespace %q: want both set", doc.Name, doc.DocumentNamespace)
	}
	if !strings.Contains(doc.DocumentNamespace, digest.String()) || !strings.HasPrefix(doc.DocumentNamespace, NamespacePrefix) {
		t.Errorf("documentNamespace %q: want %s... containing %s", doc.DocumentNamespace, NamespacePrefix, digest)
	}
	if doc.CreationInfo.Created != "2024-01-01T00:00:00Z" {
		t.Errorf("creationInfo.created = %q, want 2024-01-01T00:00:00Z", doc.CreationInfo.Created)
	}
	if len(doc.CreationInfo.Creators) != 1 || doc.CreationInfo.Creators[0] != "Tool: lkpkg" {
		t.Errorf("creators = %q", doc.CreationInfo.Creators)
	}

	// Required package fields; unique SPDXIDs in SPDX's alphabet.
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	for _, p := range doc.Packages {
		if p.Name == "" || p.DownloadLocation == "" || p.FilesAnalyzed == nil || *p.FilesAnalyzed {
			t.Errorf("package %+v: want name, downloadLocation, filesAnalyzed false", p)
		}
		if !strings.HasPrefix(p.SPDXID, "SPDXRef-") || !isIDString(strings.TrimPrefix(p.SPDXID, "SPDXRef-")) {
			t.Errorf("package %s: bad SPDXID %q", p.Name, p.SPDXID)
		}
		if ids[p.SPDXID] {
			t.Errorf("duplicate SPDXID %q", p.SPDXID)
		}
		ids[p.SPDXID] = true
	}

	// The root is the image; the document describes it and it contains
	// every other package.
	if len(doc.Packages) == 0 {
		t.Fatal("no packages")
	}
	root := doc.Packages[0]
	if root.Name != name || root.VersionInfo != digest.String() {
		t.Errorf("root = %s %s, want %s %s", root.Name, root.VersionInfo, name, digest)
	}
	want := map[[3]string]bool{{"SPDXRef-DOCUMENT", "DESCRIBES", root.SPDXID}: true}
	for _, p := range doc.Packages[1:] {
		want[[3]string{root.SPDXID, "CONTAINS", p.SPDXID}] = true
	}
	if len(doc.Relationships) != len(want) {
		t.Errorf("%d relationships, want %d", len(doc.Relationships), len(want))
	}
	for _, r := range doc.Relationships {
		if !want[[3]string{r.Element, r.Type, r.Related}] {
			t.Errorf("unexpected relationship %+v", r)
		}
		if !ids[r.Element] || !ids[r.Related] {
			t.Errorf("relationship %+v names an unknown element", r)
		}
	}
	return doc, out
}

// checkPurls checks the package URL of each named package.
func checkPurls(t *testing.T, doc parsed, want map[string]string) {
	t.Helper()
	for name, w := range want {
		if got := purlOf(t, doc, name); got != w {
			t.Errorf("%s purl = %q, want %q", name, got, w)
		}
	}
}

func purlOf(t *testing.T, doc parsed, name string) string {
	t.Helper()
	for _, p := range doc.Packages[1:] {
		if p.Name == name {
			if len(p.ExternalRefs) != 1 || p.ExternalRefs[0].Type != "purl" || p.ExternalRefs[0].Category != "PACKAGE-MANAGER" {
				t.Fatalf("%s: externalRefs %+v, want one purl", name, p.ExternalRefs)
			}
			return p.ExternalRefs[0].Locator
		}
	}
	t.Fatalf("no package %s", name)
	return ""
}

func TestSBOMAlpine(t *testing.T) {
	img := image(t, alpineLayer(t))
	doc, out := sbom(t, img, "lkpkg/minirootfs")

	if n := len(doc.Packages) - 1; n != 15 {
		t.Fatalf("%d apk packages, want 15", n)
	}
	checkPurls(t, doc, map[string]string{
		"busybox":           "pkg:apk/alpine/busybox@1.36.1-r19?arch=x86_64",
		"musl":              "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64",
		"alpine-baselayout": "pkg:apk/alpine/alpine-baselayout@3.4.3-r2?arch=x86_64",
	})
	for _, p := range doc.Packages[1:] {
		if p.DownloadLocation != "NOASSERTION" {
			t.Errorf("%s downloadLocation = %q", p.Name, p.DownloadLocation)
		}
		if p.Name == "busybox" {
			if p.VersionInfo != "1.36.1-r19" || p.LicenseDeclared != "GPL-2.0-only" ||
				p.Supplier != "Person: Sören Tempel (soeren+alpine@soeren-tempel.net)" || p.Originator != p.Supplier ||
				p.SPDXID != "SPDXRef-Package-apk-busybox" {
				t.Errorf("busybox = %+v", p)
			}
		}
	}
	// Sorted by name after the root.
	for i := 2; i < len(doc.Packages); i++ {
		if doc.Packages[i-1].Name >= doc.Packages[i].Name {
			t.Errorf("packages not sorted: %s before %s", doc.Packages[i-1].Name, doc.Packages[i].Name)
		}
	}

	again, err := SBOM(img, "lkpkg/minirootfs")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, again) {
		t.Error("two SBOMs of the same image differ")
	}
	// The same content in a freshly built image object: same bytes.
	again, err = SBOM(image(t, alpineLayer(t)), "lkpkg/minirootfs")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, again) {
		t.Error("SBOMs of two identical images differ")
	}

	// A different image: a different namespace.
	other := image(t, alpineLayer(t), layer(t, file{name: "etc/motd", data: "hi\n"}))
	doc2, _ := sbom(t, other, "lkpkg/minirootfs")
	if doc2.DocumentNamespace == doc.DocumentNamespace {
		t.Errorf("different images share namespace %s", doc.DocumentNamespace)
	}
}

func TestSBOMNoDatabase(t *testing.T) {
	img := image(t, layer(t, file{name: "hello", data: "#!/bin/sh\necho hi\n"}))
	doc, _ := sbom(t, img, "lkpkg/hello")
	if len(doc.Packages) != 1 || len(doc.Relationships) != 1 {
		t.Errorf("%d packages, %d relationships: want the root and DESCRIBES only", len(doc.Packages), len(doc.Relationships))
	}
	// No layers at all.
	doc, _ = sbom(t, image(t), "lkpkg/empty")
	if len(doc.Packages) != 1 {
		t.Errorf("empty image: %d packages, want 1", len(doc.Packages))
	}
}

func TestSBOMWhiteout(t *testing.T) {
	// A later layer deletes the database: nothing is installed any more.
	deleted := image(t, alpineLayer(t), layer(t, file{name: "lib/apk/db/.wh.installed"}))
	doc, _ := sbom(t, deleted, "lkpkg/deleted")
	if len(doc.Packages) != 1 {
		t.Errorf("database whited out: %d packages, want only the root", len(doc.Packages))
	}

	// Deleted, then rewritten by an upper layer: the final database counts.
	final := "P:busybox\nV:1.36.1-r20\nA:x86_64\nL:GPL-2.0-only\nm:Someone <someone@example.org>\n\n" +
		"P:custom-thing\nV:1.0-r0\nA:x86_64\nL:custom:multiple\no:things\n\n"
	rewritten := image(t, alpineLayer(t),
		layer(t, file{name: "lib/apk/db/.wh.installed"}),
		layer(t, file{name: "lib/apk/db/installed", data: final}))
	doc, _ = sbom(t, rewritten, "lkpkg/rewritten")
	if len(doc.Packages) != 3 {
		t.Fatalf("rewritten database: %d packages, want root + 2", len(doc.Packages))
	}
	if got := purlOf(t, doc, "busybox"); got != "pkg:apk/alpine/busybox@1.36.1-r20?arch=x86_64" {
		t.Errorf("busybox purl = %s: want the upper layer's version", got)
	}
	// "custom:multiple" is no SPDX expression: a LicenseRef with its text.
	p := doc.Packages[2]
	if p.Name != "custom-thing" || !strings.HasPrefix(p.LicenseDeclared, "LicenseRef-custom-multiple-") || p.Supplier != "" {
		t.Errorf("custom-thing = %+v", p)
	}
	if len(doc.ExtractedLicenses) != 1 || doc.ExtractedLicenses[0].LicenseID != p.LicenseDeclared ||
		doc.ExtractedLicenses[0].ExtractedText != "custom:multiple" {
		t.Errorf("hasExtractedLicensingInfos = %+v", doc.ExtractedLicenses)
	}

	// An opaque directory hides the lower layer's whole lib/apk/db.
	opaque := image(t, alpineLayer(t), layer(t, file{name: "lib/apk/db/", dir: true}, file{name: "lib/apk/db/.wh..wh..opq"}))
	doc, _ = sbom(t, opaque, "lkpkg/opaque")
	if len(doc.Packages) != 1 {
		t.Errorf("opaque lib/apk/db: %d packages, want only the root", len(doc.Packages))
	}
}

const dpkgStatusText = `Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Version: 2.36-9+deb12u4
Source: glibc
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
Homepage: https://www.gnu.org/software/libc/libc.html

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: base-files
Status: install ok installed
Architecture: amd64
Maintainer: Santiago Vila <sanvila@debian.org>
Version: 12.4+deb12u5
`

func TestSBOMDebian(t *testing.T) {
	img := image(t, layer(t,
		file{name: "var/lib/dpkg/status", data: dpkgStatusText},
		file{name: "var/lib/dpkg/status.d/tzdata", data: "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n"},
		file{name: "var/lib/dpkg/status.d/tzdata.md5sums", data: "0123  usr/share/zoneinfo/UTC\n"},
	))
	doc, _ := sbom(t, img, "example/debian")
	var names []string
	for _, p := range doc.Packages[1:] {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "base-files libc6 tzdata" {
		t.Errorf("packages %q, want installed ones only, sorted", got)
	}
	checkPurls(t, doc, map[string]string{
		"libc6":      "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64",
		"base-files": "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64",
		"tzdata":     "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all",
	})
	if p := doc.Packages[2]; p.Supplier != "Person: GNU Libc Maintainers (debian-glibc@lists.debian.org)" || p.LicenseDeclared != "NOASSERTION" {
		t.Errorf("libc6 = %+v", p)
	}
}

func TestSBOMErrors(t *testing.T) {
	if _, err := SBOM(image(t), ""); err == nil {
		t.Error("empty image name: no error")
	}
	bad := image(t, layer(t, file{name: "lib/apk/db/installed", data: "this is not an apk database\n"}))
	if _, err := SBOM(bad, "x"); err == nil || !strings.Contains(err.Error(), "lib/apk/db/installed") {
		t.Errorf("corrupt database: err = %v, want one naming the file", err)
	}
}

func TestSBOMUnsetCreated(t *testing.T) {
	img, err := mutate.AppendLayers(empty.Image, alpineLayer(t))
	if err != nil {
		t.Fatal(err)
	}
	out, err := SBOM(img, "x")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"created": "1970-01-01T00:00:00Z"`)) {
		t.Errorf("unset Created: want the epoch, got\n%s", out[:300])
	}
}

func TestLicenseExpression(t *testing.T) {
	for s, want := range map[string]bool{
		"MIT":                          true,
		"GPL-2.0-only":                 true,
		"GPL-2.0+":                     true,
		"MIT AND BSD-3-Clause":         true,
		"(MIT OR Apache-2.0) AND Zlib": true,
		"GPL-2.0-or-later WITH Classpath-exception-2.0": true,
		"LicenseRef-foo":             true,
		"DocumentRef-a:LicenseRef-b": true,
		"custom:multiple":            false,
		"MIT BSD":                    false,
		"MIT AND":                    false,
		"(MIT":                       false,
		"MIT)":                       false,
		"GPL-2.0 WITH":               false,
		"Public Domain":              false,
		"AND":                        false,
	} {
		if got := validLicenseExpression(s); got != want {
			t.Errorf("validLicenseExpression(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"Natanael Copa <ncopa@alpinelinux.org>": "Person: Natanael Copa (ncopa@alpinelinux.org)",
		"Just A Name":                           "Person: Just A Name",
		"<only@mail>":                           "Person: only@mail (only@mail)",
		"Odd (Nick) Name <x@y>":                 "Person: Odd Nick Name (x@y)",
		"":                                      "",
	} {
		if got := spdxParty(in); got != want {
			t.Errorf("spdxParty(%q) = %q, want %q", in, got, want)
		}
	}
	used := map[string]bool{}
	if a, b, c := uniqueID(used, "x"), uniqueID(used, "x"), uniqueID(used, "x"); a != "x" || b != "x-2" || c != "x-3" {
		t.Errorf("uniqueID: %s %s %s", a, b, c)
	}
	if got := sanitizeID("foo_bar+baz@1"); got != "foo-bar-baz-1" {
		t.Errorf("sanitizeID = %q", got)
	}
}
