package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// End-to-end tests of publishing: lkpkg pushes, signs (cosign and
// notation, with SBOM and SLSA provenance attestations) and verifies, and
// the official cosign and notation CLIs agree with it in both directions.

const cosignPW = "lkpkg-test-password"

// trustPolicyJSON trusts the trust store ca:NAME for every registry.
func trustPolicyJSON(store string) string {
	return fmt.Sprintf(`{"version":"1.0","trustPolicies":[{"name":"lkpkg","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:%s"],"trustedIdentities":["*"]}]}`, store)
}

// keySet is what `lkpkg keys generate --notation` writes, plus a notation
// trust policy and a trust store holding its CA (store "lkpkg").
type keySet struct {
	dir                       string
	cosignKey, cosignPub      string
	notationKey, notationCert string
	ca, policy, trustStore    string
	generated                 time.Time
}

func genKeys(t testing.TB, l *lk, extra ...string) keySet {
	t.Helper()
	dir := t.TempDir()
	k := keySet{dir: dir, generated: time.Now()}
	r := l.ok(append([]string{"keys", "generate", "--notation", "-d", dir}, extra...)...)
	k.cosignKey, k.cosignPub = filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	k.notationKey, k.notationCert, k.ca = filepath.Join(dir, "signing.key"), filepath.Join(dir, "signing.crt"), filepath.Join(dir, "ca.crt")
	for _, p := range []string{k.cosignKey, k.cosignPub, k.notationKey, k.notationCert, k.ca} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("keys generate did not write %s: %v\n%s", p, err, r)
		}
	}
	k.trustStore = filepath.Join(dir, "truststore")
	k.policy = filepath.Join(dir, "trustpolicy.json")
	writeTrustStore(t, k.trustStore, "lkpkg", k.ca)
	if err := os.WriteFile(k.policy, []byte(trustPolicyJSON("lkpkg")), 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

// writeTrustStore lays ca out as notation's trust store dir/x509/ca/store.
func writeTrustStore(t testing.TB, dir, store, ca string) {
	t.Helper()
	b, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(dir, "x509", "ca", store)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, filepath.Base(ca)), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// signArgs are the lkpkg flags that sign with both cosign and notation.
func (k keySet) signArgs() []string {
	return []string{"--key", k.cosignKey, "--notation-key", k.notationKey, "--notation-cert", k.notationCert}
}

// verifyArgs are the lkpkg verify flags for both policies.
func (k keySet) verifyArgs() []string {
	return []string{"--key", k.cosignPub, "--notation-policy", k.policy, "--notation-truststore", k.trustStore}
}

// publishSetup starts a parallel integration test of publishing: a
// registry on loopback, an lkpkg with signing passwords set, and keys.
func publishSetup(t *testing.T) (string, *lk, keySet) {
	t.Helper()
	testenv.Integration(t)
	t.Parallel()
	reg := testenv.Registry(t)
	l := newPublishLK(t)
	return reg, l, genKeys(t, l)
}

// newPublishLK is an lkpkg runner (shared builder, fresh cache) that can
// open cosign keys.
func newPublishLK(t testing.TB) *lk {
	t.Helper()
	l := newLK(t)
	l.extraEnv = append(l.extraEnv, "COSIGN_PASSWORD="+cosignPW)
	return l
}

// pushLine is the stdout summary of one push.
type pushLine struct {
	tag, digest string
	platforms   []string
	mb          float64
	existing    int
}

var (
	pushLineRE = regexp.MustCompile(`(?m)^pushed (\S+)@(sha256:[0-9a-f]{64}) \(([^;]*); ([0-9.]+) MB uploaded, (\d+) blobs already there\)$`)
	// the progress summary on stderr: "TAG: 0 B in 0 blob(s) uploaded, 3 already there, 12ms"
	pushSummaryRE = regexp.MustCompile(`(?m)^(\S+): ([0-9.]+ (?:B|KiB|MiB|GiB)) in (\d+) blob\(s\) uploaded, (\d+) already there, \S+$`)
	anyBuildRE    = regexp.MustCompile(`(?m)^(\S+) (sha256:[0-9a-f]{64}) (up to date|built for \S+)$`)
)

func parsePushes(t testing.TB, r result) map[string]pushLine {
	t.Helper()
	out := map[string]pushLine{}
	for _, m := range pushLineRE.FindAllStringSubmatch(r.stdout, -1) {
		mb, _ := strconv.ParseFloat(m[4], 64)
		ex, _ := strconv.Atoi(m[5])
		out[m[1]] = pushLine{tag: m[1], digest: m[2], platforms: strings.Split(m[3], ", "), mb: mb, existing: ex}
	}
	if len(out) == 0 {
		t.Fatalf("no push summary line in the output:\n%s", r)
	}
	return out
}

// pushSummary returns the exact progress summary of the push of tag:
// the uploaded size as lkpkg prints it and the blob counts.
func pushSummary(t testing.TB, r result, tag string) (size string, uploaded, existing int) {
	t.Helper()
	for _, m := range pushSummaryRE.FindAllStringSubmatch(r.stderr, -1) {
		if m[1] == tag {
			u, _ := strconv.Atoi(m[3])
			e, _ := strconv.Atoi(m[4])
			return m[2], u, e
		}
	}
	t.Fatalf("no push progress summary for %s:\n%s", tag, r)
	return "", 0, 0
}

// builtRefs maps the image name (last path element, without tag) of each
// build line to its reference and digest.
func builtRefs(t testing.TB, r result) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for _, m := range anyBuildRE.FindAllStringSubmatch(r.stdout, -1) {
		repo := repoOf(m[1])
		out[repo[strings.LastIndex(repo, "/")+1:]] = [2]string{m[1], m[2]}
	}
	if len(out) == 0 {
		t.Fatalf("no build line in the output:\n%s", r)
	}
	return out
}

func insecureRef(t testing.TB, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// remoteIndex is the index at ref, its manifest and the digest the
// registry serves it under.
func remoteIndex(t testing.TB, ref string) (v1.ImageIndex, *v1.IndexManifest, v1.Hash) {
	t.Helper()
	desc, err := remote.Get(insecureRef(t, ref))
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return idx, im, desc.Digest
}

// imagePlatforms maps "os/arch" to the digest of each image of the index
// (attestation manifests left out).
func imagePlatforms(im *v1.IndexManifest) map[string]string {
	out := map[string]string{}
	for _, d := range im.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" || !d.MediaType.IsImage() {
			continue
		}
		out[d.Platform.String()] = d.Digest.String()
	}
	return out
}

func headDigestOf(t testing.TB, ref string) (string, error) {
	t.Helper()
	d, err := remote.Head(insecureRef(t, ref))
	if err != nil {
		return "", err
	}
	return d.Digest.String(), nil
}

func isNotFoundErr(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// checkVerifyOutput checks `lkpkg verify` printed the index and each
// platform, signed by what want says, with the attestation types.
func checkVerifyOutput(t testing.TB, r result, indexDigest string, platforms map[string]string, wantCosign, wantNotation bool, attestations []string) {
	t.Helper()
	lines := strings.Split(r.stdout, "\n")
	find := func(what, digest string) (string, string) {
		for i, line := range lines {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == what && f[1] == digest {
				next := ""
				if i+1 < len(lines) {
					next = lines[i+1]
				}
				return line, next
			}
		}
		t.Fatalf("lkpkg verify did not print %s %s:\n%s", what, digest, r)
		return "", ""
	}
	if !strings.HasPrefix(r.stdout, "verified ") || !strings.Contains(lines[0], indexDigest) {
		t.Fatalf("lkpkg verify: first line is not \"verified ...@%s\":\n%s", indexDigest, r)
	}
	check := func(line, next string, atts []string) {
		if wantCosign && !regexp.MustCompile(`cosign SHA256:[0-9a-f]{64} \(1 signature\(s\)\)`).MatchString(line) {
			t.Errorf("no cosign signer in %q", line)
		}
		if wantNotation && !strings.Contains(line, "notation CN=") {
			t.Errorf("no notation signer in %q", line)
		}
		for _, a := range atts {
			if !strings.Contains(next, "attestations:") || !strings.Contains(next, a) {
				t.Errorf("attestation %s not listed after %q (got %q)", a, line, next)
			}
		}
	}
	line, next := find("index", indexDigest)
	check(line, next, nil)
	for p, d := range platforms {
		line, next := find(p, d)
		check(line, next, attestations)
	}
	if n := strings.Count(r.stdout, "signed by"); n != 1+len(platforms) {
		t.Errorf("lkpkg verify printed %d signed manifests, want %d:\n%s", n, 1+len(platforms), r)
	}
}

// refused runs lkpkg verify expecting a refusal that names want.
func refused(t testing.TB, l *lk, want []string, args ...string) result {
	t.Helper()
	r := l.run(append([]string{"verify", "--insecure-registry"}, args...)...)
	if r.code == 0 {
		t.Fatalf("lkpkg verify accepted:\n%s", r)
	}
	if strings.Contains(r.stdout, "verified ") {
		t.Errorf("a refused verification printed \"verified\":\n%s", r)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("refusal does not say %q:\n%s", w, r)
		}
	}
	return r
}

// twoArchPkg writes a small FROM scratch package for amd64 and arm64.
func twoArchPkg(t testing.TB, dir, image string, size int) string {
	t.Helper()
	return writePkg(t, dir, pkgSpec{image: image, arches: []string{"amd64", "arm64"}, files: map[string]string{
		"etc/" + image + ".conf": "name=" + image + "\n",
		"data.bin":               randomData(int64(len(image)), size),
	}})
}

// alpineSBOMPkg is the Alpine minirootfs with its apk database, no RUN.
func alpineSBOMPkg(t testing.TB, dir, image string) string {
	t.Helper()
	return writePkg(t, dir, pkgSpec{
		image: image,
		extra: fmt.Sprintf("extra-sources:\n  - %s:minirootfs\n", filepath.Join(testenv.AlpineDir(t), "minirootfs")),
		df:    "FROM scratch\nADD minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz /\n",
	})
}

// TestPublishRoundTrip: one `pkg build --push --sign` with cosign and
// notation; lkpkg verify and the official CLIs accept everything, the
// SBOM lists the Alpine packages, and a re-push uploads nothing.
func TestPublishRoundTrip(t *testing.T) {
	reg, l, keys := publishSetup(t)
	root := t.TempDir()
	twoArchPkg(t, filepath.Join(root, "rt"), "roundtrip", 200<<10)
	alpineSBOMPkg(t, filepath.Join(root, "alpine"), "alpine-sbom")
	org := reg + "/lkpkg"

	args := append([]string{"pkg", "build", "--progress", "quiet", "--org", org, root + "/...", "--push", "--insecure-registry", "--sign"}, keys.signArgs()...)
	r := l.ok(args...)
	built := builtRefs(t, r)
	pushes := parsePushes(t, r)
	if len(built) != 2 || len(pushes) != 2 {
		t.Fatalf("want 2 packages built and pushed:\n%s", r)
	}
	if n := len(regexp.MustCompile(`(?m)^signed `).FindAllString(r.stdout, -1)); n != 2 {
		t.Errorf("want 2 \"signed\" lines, got %d:\n%s", n, r)
	}

	cosignCLI := newTool(t, "LKPKG_COSIGN", "cosign")
	notationCLI := newNotationCLI(t, &keys)
	attTypes := []string{"https://spdx.dev/Document", "https://slsa.dev/provenance/v1"}
	wantPlatforms := map[string][]string{"roundtrip": {"linux/amd64", "linux/arm64"}, "alpine-sbom": {"linux/amd64"}}
	for img, want := range wantPlatforms {
		ref, digest := built[img][0], built[img][1]
		p, ok := pushes[ref]
		if !ok || p.digest != digest {
			t.Fatalf("%s: pushed %+v, built %s:\n%s", img, p, digest, r)
		}
		if p.mb <= 0 && img == "alpine-sbom" {
			t.Errorf("%s: first push uploaded %.1f MB", img, p.mb)
		}
		if strings.Join(p.platforms, ",") != strings.Join(want, ",") {
			t.Errorf("%s: pushed platforms %v, want %v", img, p.platforms, want)
		}
		_, im, idxDigest := remoteIndex(t, ref)
		if idxDigest.String() != digest {
			t.Fatalf("%s: registry has %s, lkpkg pushed %s", ref, idxDigest, digest)
		}
		plats := imagePlatforms(im)
		var got []string
		for pl := range plats {
			got = append(got, pl)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: remote index platforms %v, want %v", ref, got, want)
		}

		// lkpkg verify, both policies.
		v := l.ok(append(append([]string{"verify", "--insecure-registry", "--require-attestation", "spdxjson,slsaprovenance1"}, keys.verifyArgs()...), ref)...)
		checkVerifyOutput(t, v, digest, plats, true, true, attTypes)

		// The official CLIs.
		repo := repoOf(ref)
		cosignCLI.cosignVerify(keys.cosignPub, ref)
		notationCLI.ok("verify", "--insecure-registry", repo+"@"+digest)
		for pl, d := range plats {
			dref := repo + "@" + d
			cosignCLI.cosignVerify(keys.cosignPub, dref)
			notationCLI.ok("verify", "--insecure-registry", dref)
			arch := strings.TrimPrefix(pl, "linux/")
			if tagged, err := headDigestOf(t, ref+"-"+arch); err != nil || tagged != d {
				t.Errorf("per-arch tag %s-%s: %s, %v; want %s", ref, arch, tagged, err, d)
			}
			for _, typ := range []string{"spdxjson", "slsaprovenance1"} {
				sts := cosignCLI.cosignVerifyAttestation(keys.cosignPub, typ, dref)
				for _, st := range sts {
					if len(st.Subject) != 1 || "sha256:"+st.Subject[0].Digest["sha256"] != d {
						t.Errorf("%s attestation of %s: subject %+v", typ, dref, st.Subject)
					}
				}
				checkAttestation(t, img, ref, typ, sts[0])
			}
		}
	}

	// An unchanged rebuild re-pushed uploads nothing.
	rb := l.ok("pkg", "build", "--progress", "quiet", "--force", "--org", org, root+"/...")
	for img, b := range builtRefs(t, rb) {
		if b != built[img] {
			t.Errorf("forced rebuild of %s gave %v, first build %v", img, b, built[img])
		}
	}
	rp := l.ok("pkg", "push", "--insecure-registry", "--org", org, root+"/...")
	for ref, p := range parsePushes(t, rp) {
		if p.mb != 0 || !strings.Contains(rp.stdout, "; 0.0 MB uploaded") {
			t.Errorf("re-push of %s uploaded %.1f MB:\n%s", ref, p.mb, rp)
		}
		if size, up, _ := pushSummary(t, rp, ref); size != "0 B" || up != 0 {
			t.Errorf("re-push of %s: %s in %d blob(s) uploaded, want 0 B in 0:\n%s", ref, size, up, rp)
		}
		if !strings.Contains(rp.stderr, "@"+p.digest+" (unchanged)") {
			t.Errorf("re-push of %s did not leave the index unchanged:\n%s", ref, rp)
		}
		if p.digest != built[repoOf(ref)[strings.LastIndex(repoOf(ref), "/")+1:]][1] {
			t.Errorf("re-push of %s moved the tag to %s", ref, p.digest)
		}
	}
	// Still verified: the signatures are on the (unchanged) digests.
	l.ok(append(append([]string{"verify", "--insecure-registry"}, keys.verifyArgs()...), built["roundtrip"][0])...)
}

// TestVerifyOfficialCLISignatures: what cosign and notation sign, lkpkg
// verifies.
func TestVerifyOfficialCLISignatures(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	reg := testenv.Registry(t)
	l := newPublishLK(t)
	dir := twoArchPkg(t, filepath.Join(t.TempDir(), "cli"), "clisigned", 10<<10)
	r := l.ok("pkg", "build", "--progress", "quiet", "--org", reg+"/lkpkg", dir, "--push", "--insecure-registry")
	ref := pushLineRE.FindStringSubmatch(r.stdout)
	if ref == nil {
		t.Fatalf("no push line:\n%s", r)
	}
	tagRef, digest := ref[1], ref[2]
	repo := repoOf(tagRef)
	_, im, _ := remoteIndex(t, tagRef)
	plats := imagePlatforms(im)
	targets := []string{repo + "@" + digest}
	for _, d := range plats {
		targets = append(targets, repo+"@"+d)
	}

	// cosign: a key pair made by the CLI, every manifest signed by the CLI.
	cosignCLI := newTool(t, "LKPKG_COSIGN", "cosign")
	cosignCLI.ok("generate-key-pair")
	for _, tr := range targets {
		cosignCLI.ok(append([]string{"sign", "--key", "cosign.key", "--tlog-upload=false", "-y"}, append(cosignRegistryFlags, tr)...)...)
	}
	pub := filepath.Join(cosignCLI.dir, "cosign.pub")
	v := l.ok("verify", "--insecure-registry", "--key", pub, tagRef)
	checkVerifyOutput(t, v, digest, plats, true, false, nil)
	// The CLI attached no SBOM: requiring one fails closed.
	refused(t, l, []string{"required attestation https://spdx.dev/Document is missing"}, "--key", pub, "--require-attestation", "spdxjson", tagRef)

	// notation: a test certificate made by the CLI, in the CLI's own
	// trust store.
	n := newNotationCLI(t, nil)
	n.ok("cert", "generate-test", "--default", "lkpkg-cli")
	for _, tr := range targets {
		n.ok("sign", "--insecure-registry", tr)
	}
	store := filepath.Join(n.home, ".config", "notation", "truststore")
	if _, err := os.Stat(filepath.Join(store, "x509", "ca", "lkpkg-cli", "lkpkg-cli.crt")); err != nil {
		t.Fatalf("notation cert generate-test did not fill its trust store: %v", err)
	}
	policy := filepath.Join(t.TempDir(), "trustpolicy.json")
	if err := os.WriteFile(policy, []byte(trustPolicyJSON("lkpkg-cli")), 0o644); err != nil {
		t.Fatal(err)
	}
	v = l.ok("verify", "--insecure-registry", "--notation-policy", policy, "--notation-truststore", store, tagRef)
	checkVerifyOutput(t, v, digest, plats, false, true, nil)
	if !strings.Contains(v.stdout, "notation CN=lkpkg-cli") {
		t.Errorf("the notation signer is not the CLI's test certificate:\n%s", v)
	}
	// Both at once, and the official verifiers agree.
	v = l.ok("verify", "--insecure-registry", "--key", pub, "--notation-policy", policy, "--notation-truststore", store, tagRef)
	checkVerifyOutput(t, v, digest, plats, true, true, nil)
	n.ok("policy", "import", "--force", policy)
	for _, tr := range targets {
		n.ok("verify", "--insecure-registry", tr)
		cosignCLI.cosignVerify(pub, tr)
	}
}

// TestTwoHostsPush: two caches build one platform each and push; the
// registry ends up with one index holding both.
func TestTwoHostsPush(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	reg := testenv.Registry(t)
	org := reg + "/lkpkg"
	dir := twoArchPkg(t, filepath.Join(t.TempDir(), "two"), "twohosts", 50<<10)
	hosts := map[string]*lk{"amd64": newPublishLK(t), "arm64": newPublishLK(t)}
	digests := map[string]string{}
	var ref string
	for _, arch := range []string{"amd64", "arm64"} {
		h := hosts[arch]
		b := h.ok("pkg", "build", "--progress", "quiet", "--org", org, "--platforms", "linux/"+arch, dir)
		br := builtRefs(t, b)["twohosts"]
		if ref != "" && br[0] != ref {
			t.Fatalf("the two hosts disagree on the tag: %s vs %s", ref, br[0])
		}
		ref = br[0]
		ls := h.cacheLs()
		e, ok := ls[ref+"-"+arch]
		if !ok {
			t.Fatalf("cache of host %s lacks %s-%s: %v", arch, ref, arch, ls)
		}
		digests["linux/"+arch] = e.digest
		p := h.ok("pkg", "push", "--insecure-registry", "--org", org, dir)
		pl := parsePushes(t, p)[ref]
		if arch == "arm64" {
			if strings.Join(pl.platforms, ", ") != "linux/amd64, linux/arm64" || !strings.Contains(p.stderr, "(merged with sha256:") {
				t.Errorf("second host's push did not merge:\n%s", p)
			}
		}
	}
	if digests["linux/amd64"] == digests["linux/arm64"] {
		t.Fatal("both platforms have the same manifest digest")
	}
	_, im, idxDigest := remoteIndex(t, ref)
	plats := imagePlatforms(im)
	if len(plats) != 2 || plats["linux/amd64"] != digests["linux/amd64"] || plats["linux/arm64"] != digests["linux/arm64"] {
		t.Fatalf("remote index platforms %v, the hosts built %v", plats, digests)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if d, err := headDigestOf(t, ref+"-"+arch); err != nil || d != digests["linux/"+arch] {
			t.Errorf("%s-%s: %s %v, want %s", ref, arch, d, err, digests["linux/"+arch])
		}
	}

	// The merged index is what one host building both would have made.
	a := hosts["amd64"]
	b := a.ok("pkg", "build", "--progress", "quiet", "--org", org, dir)
	if local := builtRefs(t, b)["twohosts"][1]; local != idxDigest.String() {
		t.Errorf("merged remote index %s differs from the index of a build of both platforms %s", idxDigest, local)
	}

	// Signed by `lkpkg sign` (no cache needed), verified with both platforms.
	keys := genKeys(t, a)
	s := a.ok(append([]string{"sign", "--insecure-registry"}, append(keys.signArgs(), ref)...)...)
	if !strings.Contains(s.stdout, "signed "+repoOf(ref)+"@"+idxDigest.String()) {
		t.Errorf("lkpkg sign did not sign the index:\n%s", s)
	}
	v := a.ok(append(append([]string{"verify", "--insecure-registry"}, keys.verifyArgs()...), ref)...)
	// lkpkg sign makes the SBOM only: no package, so no provenance.
	checkVerifyOutput(t, v, idxDigest.String(), plats, true, true, []string{"https://spdx.dev/Document"})
}

// TestVerifyRefusals: lkpkg verify fails closed.
func TestVerifyRefusals(t *testing.T) {
	reg, l, keys := publishSetup(t)
	other := genKeys(t, l)
	root := t.TempDir()
	twoArchPkg(t, filepath.Join(root, "a"), "refuse", 20<<10)
	twoArchPkg(t, filepath.Join(root, "b"), "refuse-other", 20<<10)
	built := builtRefs(t, l.ok("pkg", "build", "--progress", "quiet", root+"/..."))
	local, localB := built["refuse"][0], built["refuse-other"][0] // lktest/NAME:TAG
	tag := local[strings.LastIndex(local, ":")+1:]

	// push copies a cached image into a repository of its own.
	push := func(local, repoName string, extra ...string) (ref, digest string) {
		t.Helper()
		ref = reg + "/lkpkg/" + repoName + ":" + local[strings.LastIndex(local, ":")+1:]
		r := l.ok(append([]string{"push", "--insecure-registry", local, ref}, extra...)...)
		return ref, parsePushes(t, r)[ref].digest
	}
	signedRef, signedDigest := push(local, "signed", append([]string{"--sign"}, keys.signArgs()...)...)
	unsignedRef, unsignedDigest := push(localB, "unsigned")

	// Expired notation certificate: valid for 3 s when signing.
	short := genKeys(t, l, "--notation-validity", "3s")
	expiredRef, _ := push(local, "expired")
	l.ok("sign", "--insecure-registry", "--notation-key", short.notationKey, "--notation-cert", short.notationCert, expiredRef)
	l.ok("verify", "--insecure-registry", "--notation-policy", short.policy, "--notation-truststore", short.trustStore, expiredRef)

	l.ok(append(append([]string{"verify", "--insecure-registry"}, keys.verifyArgs()...), signedRef)...)

	t.Run("wrong cosign key", func(t *testing.T) {
		refused(t, l, []string{"verification FAILED", "no valid cosign signature", "made with another key"}, "--key", other.cosignPub, signedRef)
	})
	t.Run("unsigned", func(t *testing.T) {
		refused(t, l, []string{"verification FAILED", "no cosign signature"}, "--key", keys.cosignPub, unsignedRef)
		refused(t, l, []string{"verification FAILED", "no Notary Project signature"}, "--notation-policy", keys.policy, "--notation-truststore", keys.trustStore, unsignedRef)
	})
	t.Run("tampered index", func(t *testing.T) {
		// The signed index with one annotation added: another digest,
		// which nobody signed.
		idx, _, _ := remoteIndex(t, signedRef)
		bad := mutate.Annotations(idx, map[string]string{"org.example.tampered": "1"}).(v1.ImageIndex)
		badRef := repoOf(signedRef) + ":tampered"
		if err := remote.WriteIndex(insecureRef(t, badRef), bad); err != nil {
			t.Fatal(err)
		}
		d, _ := bad.Digest()
		if d.String() == signedDigest {
			t.Fatal("tampering did not change the digest")
		}
		refused(t, l, []string{"verification FAILED", d.String(), "no cosign signature"}, "--key", keys.cosignPub, badRef)
		refused(t, l, []string{"verification FAILED", d.String(), "no Notary Project signature"}, "--notation-policy", keys.policy, "--notation-truststore", keys.trustStore, badRef)
	})
	t.Run("tampered per-arch manifest", func(t *testing.T) {
		// A per-arch tag moved to a modified image.
		archRef := signedRef + "-arm64"
		img, err := remote.Image(insecureRef(t, archRef))
		if err != nil {
			t.Fatal(err)
		}
		bad := mutate.Annotations(img, map[string]string{"org.example.tampered": "1"}).(v1.Image)
		if err := remote.Write(insecureRef(t, archRef), bad); err != nil {
			t.Fatal(err)
		}
		refused(t, l, []string{"verification FAILED", "no cosign signature"}, "--key", keys.cosignPub, archRef)
	})
	t.Run("signature copied from another image", func(t *testing.T) {
		// The index signature of the signed image, stored as the
		// signature of the unsigned one.
		sigOf := func(ref, digest string) string {
			return repoOf(ref) + ":" + strings.Replace(digest, ":", "-", 1) + ".sig"
		}
		sig, err := remote.Image(insecureRef(t, sigOf(signedRef, signedDigest)))
		if err != nil {
			t.Fatal(err)
		}
		// Another image (another digest) than the signed one.
		if unsignedDigest == signedDigest {
			t.Fatal("the two fixtures have the same digest")
		}
		copied := unsignedRef
		if err := remote.Write(insecureRef(t, sigOf(copied, unsignedDigest)), sig); err != nil {
			t.Fatal(err)
		}
		refused(t, l, []string{"verification FAILED", "signed payload names another image", unsignedDigest}, "--key", keys.cosignPub, copied)
	})
	t.Run("untrusted notation CA", func(t *testing.T) {
		refused(t, l, []string{"verification FAILED", "no signature verified", "does not contain any trusted certificate"},
			"--notation-policy", other.policy, "--notation-truststore", other.trustStore, signedRef)
	})
	t.Run("insecure non-loopback", func(t *testing.T) {
		for _, host := range []string{"10.1.2.3:5000", "registry.example.com", "127.0.0.1.nip.io:5000"} {
			refused(t, l, []string{"only allowed for loopback"}, "--key", keys.cosignPub, host+"/lkpkg/refuse:"+tag)
		}
		r := l.run("push", "--insecure-registry", local, "10.1.2.3:5000/lkpkg/refuse:"+tag)
		if r.code == 0 || !strings.Contains(r.stderr, "only allowed for loopback") {
			t.Errorf("push --insecure-registry to a non-loopback host:\n%s", r)
		}
	})
	t.Run("expired notation certificate", func(t *testing.T) {
		if wait := time.Until(short.generated.Add(4 * time.Second)); wait > 0 {
			time.Sleep(wait)
		}
		refused(t, l, []string{"verification FAILED", "no signature verified", "expired"},
			"--notation-policy", short.policy, "--notation-truststore", short.trustStore, expiredRef)
	})
}

// faultPkg builds a 2-arch package of several layers into l's cache and
// returns its local reference.
func faultPkg(t *testing.T, l *lk, image string) string {
	t.Helper()
	files := map[string]string{}
	for i := 0; i < 4; i++ {
		files[fmt.Sprintf("f%d.bin", i)] = randomData(int64(i)+int64(len(image))*10, 64<<10+i)
	}
	dir := writePkg(t, filepath.Join(t.TempDir(), image), pkgSpec{image: image, arches: []string{"amd64", "arm64"}, files: files})
	return builtRefs(t, l.ok("pkg", "build", "--progress", "quiet", dir))[image][0]
}

// TestPushThroughFaultProxy: failed blob uploads are retried; a failing
// index PUT fails the push and leaves no tag.
func TestPushThroughFaultProxy(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	reg := testenv.Registry(t)
	l := newPublishLK(t)

	t.Run("blob uploads fail", func(t *testing.T) {
		local := faultPkg(t, l, "faulty")
		var (
			mu      sync.Mutex
			uploads int
			faults  []string
		)
		proxy := testenv.FaultProxy(t, reg, func(r *http.Request, _ int) testenv.Fault {
			if !strings.Contains(r.URL.Path, "/blobs/uploads/") || (r.Method != http.MethodPatch && r.Method != http.MethodPut) {
				return testenv.Pass
			}
			mu.Lock()
			defer mu.Unlock()
			uploads++
			if uploads <= 3 {
				faults = append(faults, r.Method+" "+r.URL.Path)
				if uploads == 2 {
					return testenv.Fail429
				}
				return testenv.Fail500
			}
			return testenv.Pass
		})
		tag := local[strings.LastIndex(local, ":")+1:]
		dest := proxy + "/lkpkg/faulty:" + tag
		r := l.ok("push", "--insecure-registry", local, dest)
		mu.Lock()
		if len(faults) != 3 {
			t.Errorf("injected %d faults, want 3 (%d upload requests)", len(faults), uploads)
		}
		mu.Unlock()
		p := parsePushes(t, r)[dest]
		// Checked on the registry itself, not through the proxy.
		direct := reg + "/lkpkg/faulty:" + tag
		idx, im, d := remoteIndex(t, direct)
		if d.String() != p.digest {
			t.Fatalf("registry has %s, push reported %s", d, p.digest)
		}
		if err := validate.Index(idx); err != nil {
			t.Fatalf("the registry's image is incomplete or corrupt: %v", err)
		}
		plats := imagePlatforms(im)
		if len(plats) != 2 {
			t.Fatalf("registry index platforms: %v", plats)
		}
		ls := l.cacheLs()
		for pl, dg := range plats {
			arch := strings.TrimPrefix(pl, "linux/")
			if ls[local+"-"+arch].digest != dg {
				t.Errorf("%s: registry %s, cache %s", pl, dg, ls[local+"-"+arch].digest)
			}
			if h, err := headDigestOf(t, direct+"-"+arch); err != nil || h != dg {
				t.Errorf("per-arch tag %s-%s: %s %v", direct, arch, h, err)
			}
		}
		t.Logf("push through %d injected faults took %v", len(faults), r.dur.Round(time.Millisecond))
	})

	t.Run("index PUT always fails", func(t *testing.T) {
		local := faultPkg(t, l, "noindex")
		tag := local[strings.LastIndex(local, ":")+1:]
		var (
			mu      sync.Mutex
			indexes int
		)
		proxy := testenv.FaultProxy(t, reg, func(r *http.Request, _ int) testenv.Fault {
			if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/"+tag) {
				mu.Lock()
				indexes++
				mu.Unlock()
				return testenv.Fail500
			}
			return testenv.Pass
		})
		r := l.run("push", "--insecure-registry", local, proxy+"/lkpkg/noindex:"+tag)
		if r.code == 0 {
			t.Fatalf("push succeeded although every index PUT failed:\n%s", r)
		}
		if !strings.Contains(r.stderr, "index") || !strings.Contains(r.stderr, "500") {
			t.Errorf("the error does not name the index and the 500:\n%s", r)
		}
		if strings.Contains(r.stdout, "pushed ") {
			t.Errorf("a failed push printed a push summary:\n%s", r)
		}
		mu.Lock()
		if indexes < 2 {
			t.Errorf("the index PUT was tried %d time(s), want retries", indexes)
		}
		mu.Unlock()
		direct := reg + "/lkpkg/noindex:" + tag
		if d, err := headDigestOf(t, direct); !isNotFoundErr(err) {
			t.Fatalf("the tag exists on the registry after a failed index push: %s %v", d, err)
		}
		t.Logf("failing index push: %d PUT attempts, exit %d after %v", indexes, r.code, r.dur.Round(time.Millisecond))
	})
}

// A package built for amd64 and arm64 FROM --platform=$BUILDPLATFORM a
// tree package that exists for amd64 only (a cross toolchain) builds,
// pushes and signs: its arm64 provenance records the tool's index, from
// which BuildKit took the builder's platform.
func TestPushSignsPackageWithBuilderOnlyBase(t *testing.T) {
	reg, l, keys := publishSetup(t)
	root := t.TempDir()
	writePkg(t, filepath.Join(root, "tool"), pkgSpec{image: "tool", files: map[string]string{"x": "a tool\n"}})
	writePkg(t, filepath.Join(root, "cross"), pkgSpec{image: "cross", arches: []string{"amd64", "arm64"}, dep: "../tool",
		df: "ARG BASE\nFROM --platform=$BUILDPLATFORM ${BASE} AS tool\nFROM scratch\nCOPY --from=tool /tool/x /x\n"})
	org := reg + "/lkpkg"
	args := append([]string{"pkg", "build", "--progress", "quiet", "--org", org, root + "/...", "--push", "--insecure-registry", "--sign"}, keys.signArgs()...)
	r := l.ok(args...)
	built := builtRefs(t, r)
	cross, ok := built["cross"]
	if !ok {
		t.Fatalf("cross not built:\n%s", r)
	}
	v := l.ok("verify", "--insecure-registry", "--key", keys.cosignPub, "--require-attestation", "spdxjson,slsaprovenance1", cross[0])
	if !strings.Contains(v.stdout, "linux/arm64") {
		t.Fatalf("verify did not cover linux/arm64:\n%s", v)
	}
}
