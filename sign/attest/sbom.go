package attest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/lkpkg/lkpkg/mirror/apk"
)

// Package databases SBOM reads, as paths in the image's flattened
// filesystem (no leading slash).
const (
	apkInstalled    = "lib/apk/db/installed"
	apkInstalledUsr = "usr/lib/apk/db/installed" // merged-/usr layouts
	dpkgStatus      = "var/lib/dpkg/status"
	dpkgStatusDir   = "var/lib/dpkg/status.d" // distroless: one file per package
)

// maxDBSize bounds how much of one package database SBOM reads into memory.
const maxDBSize = 256 << 20

// NamespacePrefix starts every SBOM's documentNamespace:
// NamespacePrefix + imageName + "/" + digest.
const NamespacePrefix = "https://lkpkg.dev/spdx/"

const noAssertion = "NOASSERTION"

// SPDX 2.3 JSON, limited to the fields SBOM fills. Field order is the
// output order, so the bytes depend only on the values.
type spdxDocument struct {
	SPDXVersion       string                 `json:"spdxVersion"`
	DataLicense       string                 `json:"dataLicense"`
	SPDXID            string                 `json:"SPDXID"`
	Name              string                 `json:"name"`
	DocumentNamespace string                 `json:"documentNamespace"`
	CreationInfo      spdxCreationInfo       `json:"creationInfo"`
	Packages          []spdxPackage          `json:"packages"`
	Relationships     []spdxRelationship     `json:"relationships"`
	ExtractedLicenses []spdxExtractedLicense `json:"hasExtractedLicensingInfos,omitempty"`
}

type spdxCreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID                string            `json:"SPDXID"`
	Name                  string            `json:"name"`
	VersionInfo           string            `json:"versionInfo,omitempty"`
	Supplier              string            `json:"supplier,omitempty"`
	Originator            string            `json:"originator,omitempty"`
	DownloadLocation      string            `json:"downloadLocation"`
	FilesAnalyzed         bool              `json:"filesAnalyzed"`
	Checksums             []spdxChecksum    `json:"checksums,omitempty"`
	Homepage              string            `json:"homepage,omitempty"`
	SourceInfo            string            `json:"sourceInfo,omitempty"`
	LicenseConcluded      string            `json:"licenseConcluded"`
	LicenseDeclared       string            `json:"licenseDeclared"`
	CopyrightText         string            `json:"copyrightText"`
	ExternalRefs          []spdxExternalRef `json:"externalRefs,omitempty"`
	PrimaryPackagePurpose string            `json:"primaryPackagePurpose,omitempty"`
}

type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxExternalRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

type spdxExtractedLicense struct {
	LicenseID     string `json:"licenseId"`
	ExtractedText string `json:"extractedText"`
	Name          string `json:"name,omitempty"`
}

// osPackage is one installed package, from either database.
type osPackage struct {
	kind       string // "apk" or "deb": purl type and SPDXID prefix
	name       string
	version    string
	arch       string
	license    string // as declared, "" if none
	maintainer string // "Name <email>"
	origin     string // apk o: / deb Source:
	homepage   string
}

// SBOM returns an SPDX 2.3 JSON document for one platform image: the image
// itself as the root package (name imageName, version its digest), and every
// package recorded in its apk database (lib/apk/db/installed) and, if
// present, its dpkg database (var/lib/dpkg/status, status.d/*), as read
// from the image's flattened filesystem, so whiteouts in later layers are
// honoured. An image with neither database yields just the root package.
//
// The document is deterministic: its namespace derives from the image
// digest, its creation time is the image config's Created (the Unix epoch
// if unset), packages are sorted and SPDXIDs derive from package names. The
// same image always gives the same bytes.
func SBOM(img v1.Image, imageName string) ([]byte, error) {
	if imageName == "" {
		return nil, errors.New("sbom: empty image name")
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("sbom: image digest: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("sbom: image config: %w", err)
	}
	files, err := readDatabases(img)
	if err != nil {
		return nil, fmt.Errorf("sbom: %s: %w", imageName, err)
	}
	var pkgs []osPackage
	apkDB, ok := files[apkInstalled]
	if !ok {
		apkDB, ok = files[apkInstalledUsr]
	}
	if ok {
		p, err := apkPackages(apkDB)
		if err != nil {
			return nil, fmt.Errorf("sbom: %s: %s: %w", imageName, apkInstalled, err)
		}
		pkgs = append(pkgs, p...)
	}
	dpkgFiles := make([]string, 0, len(files))
	for name := range files {
		if name == dpkgStatus || path.Dir(name) == dpkgStatusDir {
			dpkgFiles = append(dpkgFiles, name)
		}
	}
	sort.Strings(dpkgFiles)
	for _, name := range dpkgFiles {
		pkgs = append(pkgs, dpkgPackages(files[name])...)
	}

	var created time.Time
	if cfg != nil {
		created = cfg.Created.Time
	}
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	doc := buildDocument(imageName, digest, created, pkgs)
	return marshal(doc)
}

// buildDocument assembles the SPDX document; pkgs may be in any order.
func buildDocument(imageName string, digest v1.Hash, created time.Time, pkgs []osPackage) *spdxDocument {
	sort.Slice(pkgs, func(i, j int) bool {
		a, b := pkgs[i], pkgs[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.name != b.name {
			return a.name < b.name
		}
		if a.version != b.version {
			return a.version < b.version
		}
		return a.arch < b.arch
	})
	const rootID = "SPDXRef-Image"
	doc := &spdxDocument{
		SPDXVersion:       "SPDX-2.3",
		DataLicense:       "CC0-1.0",
		SPDXID:            "SPDXRef-DOCUMENT",
		Name:              imageName,
		DocumentNamespace: NamespacePrefix + escapePath(imageName) + "/" + digest.String(),
		CreationInfo: spdxCreationInfo{
			Created:  created.UTC().Format("2006-01-02T15:04:05Z"),
			Creators: []string{"Tool: lkpkg"},
		},
		Packages: []spdxPackage{{
			SPDXID:           rootID,
			Name:             imageName,
			VersionInfo:      digest.String(),
			DownloadLocation: noAssertion,
			Checksums:        rootChecksums(digest),
			LicenseConcluded: noAssertion,
			LicenseDeclared:  noAssertion,
			CopyrightText:    noAssertion,
			// Supplier is left out: the builder can't assert who supplies it.
			PrimaryPackagePurpose: "CONTAINER",
		}},
		Relationships: []spdxRelationship{{
			Element: "SPDXRef-DOCUMENT", Type: "DESCRIBES", Related: rootID,
		}},
	}
	used := map[string]bool{rootID: true, "SPDXRef-DOCUMENT": true}
	extracted := map[string]string{} // licenseId -> text
	for _, p := range pkgs {
		id := uniqueID(used, "SPDXRef-Package-"+p.kind+"-"+sanitizeID(p.name))
		party := spdxParty(p.maintainer)
		sp := spdxPackage{
			SPDXID:           id,
			Name:             p.name,
			VersionInfo:      p.version,
			Supplier:         party,
			Originator:       party,
			DownloadLocation: noAssertion,
			Homepage:         spdxHomepage(p.homepage),
			LicenseConcluded: noAssertion,
			LicenseDeclared:  declaredLicense(p.license, extracted),
			CopyrightText:    noAssertion,
			ExternalRefs: []spdxExternalRef{{
				Category: "PACKAGE-MANAGER",
				Type:     "purl",
				Locator:  purl(p),
			}},
		}
		if p.origin != "" && p.origin != p.name {
			sp.SourceInfo = "built from " + p.kind + " source package " + p.origin
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, spdxRelationship{
			Element: rootID, Type: "CONTAINS", Related: id,
		})
	}
	ids := make([]string, 0, len(extracted))
	for id := range extracted {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		doc.ExtractedLicenses = append(doc.ExtractedLicenses, spdxExtractedLicense{
			LicenseID: id, ExtractedText: extracted[id], Name: extracted[id],
		})
	}
	return doc
}

func rootChecksums(h v1.Hash) []spdxChecksum {
	alg := map[string]string{"sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512"}[h.Algorithm]
	if alg == "" {
		return nil
	}
	return []spdxChecksum{{Algorithm: alg, Value: h.Hex}}
}

// marshal renders v as indented JSON without HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// readDatabases returns the contents of the package databases present in
// img's flattened filesystem, keyed by path.
func readDatabases(img v1.Image) (map[string][]byte, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading filesystem: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimLeft(path.Clean("/"+hdr.Name), "/")
		switch {
		case name == apkInstalled, name == apkInstalledUsr, name == dpkgStatus:
		case path.Dir(name) == dpkgStatusDir && !strings.HasSuffix(name, ".md5sums"):
		default:
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxDBSize+1))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		if len(data) > maxDBSize {
			return nil, fmt.Errorf("%s is larger than %d bytes", name, maxDBSize)
		}
		files[name] = data
	}
}

// apkPackages parses an apk installed database.
func apkPackages(db []byte) ([]osPackage, error) {
	recs, err := apk.ParseIndex(bytes.NewReader(db))
	if err != nil {
		return nil, err
	}
	pkgs := make([]osPackage, 0, len(recs))
	for _, r := range recs {
		pkgs = append(pkgs, osPackage{
			kind:       "apk",
			name:       r.Name,
			version:    r.Version,
			arch:       r.Arch,
			license:    r.License,
			maintainer: r.Maintainer,
			origin:     r.Origin,
			homepage:   r.URL,
		})
	}
	return pkgs, nil
}

// dpkgPackages parses a dpkg status file (RFC 822 style stanzas), keeping
// the packages that are actually installed. Malformed lines are skipped.
func dpkgPackages(db []byte) []osPackage {
	var pkgs []osPackage
	fields := map[string]string{}
	flush := func() {
		defer clear(fields)
		if fields["package"] == "" || fields["version"] == "" {
			return
		}
		// Status is "want flag state"; only state "installed" is on disk.
		// status.d files may lack it: they only list installed packages.
		if st, ok := fields["status"]; ok {
			if f := strings.Fields(st); len(f) != 3 || f[2] != "installed" {
				return
			}
		}
		pkgs = append(pkgs, osPackage{
			kind:       "deb",
			name:       fields["package"],
			version:    fields["version"],
			arch:       fields["architecture"],
			maintainer: fields["maintainer"],
			origin:     firstWord(fields["source"]), // "glibc (2.36-9)"
			homepage:   fields["homepage"],
		})
	}
	sc := bufio.NewScanner(bytes.NewReader(db))
	sc.Buffer(make([]byte, 0, 64<<10), maxDBSize)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			// Continuation of a multi-line field (Description, Conffiles):
			// none of the fields SBOM uses.
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	flush()
	return pkgs
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// purl returns the package URL of p: pkg:apk/alpine/NAME@VERSION?arch=ARCH
// or pkg:deb/debian/NAME@VERSION?arch=ARCH.
func purl(p osPackage) string {
	ns := map[string]string{"apk": "alpine", "deb": "debian"}[p.kind]
	// Both types' names are case-insensitive and lowercased in purls.
	s := "pkg:" + p.kind + "/" + ns + "/" + purlEscape(strings.ToLower(p.name)) + "@" + purlEscape(p.version)
	if p.arch != "" {
		s += "?arch=" + purlEscape(p.arch)
	}
	return s
}

// purlEscape percent-encodes everything but unreserved characters and ':'
// (ECMA-427 / purl-spec), so e.g. a Debian "+deb12u1" becomes "%2Bdeb12u1".
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '.' || c == '-' || c == '_' || c == '~' || c == ':' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// escapePath escapes each '/'-separated segment of s for a URL path.
func escapePath(s string) string {
	segs := strings.Split(s, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}

// sanitizeID maps s onto SPDX's idstring alphabet [A-Za-z0-9.-].
func sanitizeID(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !isAlnum(c) && c != '.' && c != '-' {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "unnamed"
	}
	return string(b)
}

// uniqueID returns id, or id-2, id-3, ... if it is taken, and marks it taken.
// Callers go through packages in sorted order, so the result is stable.
func uniqueID(used map[string]bool, id string) string {
	out := id
	for n := 2; used[out]; n++ {
		out = fmt.Sprintf("%s-%d", id, n)
	}
	used[out] = true
	return out
}

// spdxParty turns a "Name <email>" maintainer into an SPDX supplier or
// originator ("Person: Name (email)"), or "" if there is none.
func spdxParty(m string) string {
	m = strings.TrimSpace(m)
	if m == "" {
		return ""
	}
	name, email := m, ""
	if i := strings.IndexByte(m, '<'); i >= 0 {
		if j := strings.IndexByte(m[i:], '>'); j > 0 {
			name, email = m[:i], m[i+1:i+j]
		}
	}
	// Parentheses would confuse the "(email)" part.
	clean := strings.NewReplacer("(", "", ")", "", "\n", " ").Replace
	name, email = strings.TrimSpace(clean(name)), strings.TrimSpace(clean(email))
	switch {
	case name == "" && email == "":
		return ""
	case name == "":
		name = email
	}
	if email == "" {
		return "Person: " + name
	}
	return "Person: " + name + " (" + email + ")"
}

// spdxHomepage returns u if it is an absolute http(s) URL, else "".
func spdxHomepage(u string) string {
	pu, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return ""
	}
	return pu.String()
}

// declaredLicense returns the SPDX licenseDeclared for a package's declared
// license text: the text itself when it is a well-formed SPDX license
// expression, NOASSERTION when empty, and otherwise a LicenseRef whose text
// it records in extracted (licenseId -> text).
func declaredLicense(l string, extracted map[string]string) string {
	l = strings.Join(strings.Fields(l), " ")
	if l == "" {
		return noAssertion
	}
	if validLicenseExpression(l) {
		return l
	}
	sum := sha256.Sum256([]byte(l))
	id := "LicenseRef-" + strings.Trim(sanitizeID(l), "-") + "-" + hex.EncodeToString(sum[:4])
	extracted[id] = l
	return id
}

// validLicenseExpression reports whether s parses as an SPDX license
// expression (SPDX 2.3 annex D): ids, "+", AND, OR, WITH and parentheses.
// It checks syntax only, not that ids are on the SPDX license list.
func validLicenseExpression(s string) bool {
	p := licenseParser{toks: strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s))}
	return p.expr() && p.i == len(p.toks)
}

type licenseParser struct {
	toks []string
	i    int
}

func (p *licenseParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

// expr := term (("AND" | "OR") term)*
func (p *licenseParser) expr() bool {
	if !p.term() {
		return false
	}
	for p.peek() == "AND" || p.peek() == "OR" {
		p.i++
		if !p.term() {
			return false
		}
	}
	return true
}

// term := "(" expr ")" | id ["+"] ["WITH" id]
func (p *licenseParser) term() bool {
	switch t := p.peek(); {
	case t == "(":
		p.i++
		if !p.expr() || p.peek() != ")" {
			return false
		}
		p.i++
		return true
	case isLicenseID(t, true):
		p.i++
		if p.peek() == "WITH" {
			p.i++
			if !isLicenseID(p.peek(), false) {
				return false
			}
			p.i++
		}
		return true
	}
	return false
}

// isLicenseID reports whether t is an idstring, optionally "+"-suffixed,
// or a DocumentRef-x:LicenseRef-y, and not an operator.
func isLicenseID(t string, plus bool) bool {
	switch t {
	case "", "AND", "OR", "WITH":
		return false
	}
	if doc, ref, ok := strings.Cut(t, ":"); ok {
		return strings.HasPrefix(doc, "DocumentRef-") && strings.HasPrefix(ref, "LicenseRef-") &&
			isIDString(doc) && isIDString(ref)
	}
	if plus {
		t = strings.TrimSuffix(t, "+")
	}
	return isIDString(t)
}

func isIDString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}
