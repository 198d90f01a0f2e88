package cosign

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"

	"github.com/lkpkg/lkpkg/internal/testenv"
	"github.com/lkpkg/lkpkg/registry"
)

const password = "correct horse battery staple"

var ro = registry.Options{Insecure: true}

// cli runs the official cosign CLI in dir with a private HOME and
// DOCKER_CONFIG, COSIGN_PASSWORD and COSIGN_YES; it returns stdout and
// stderr.
func cli(t *testing.T, dir string, args ...string) (string, string, error) {
	t.Helper()
	bin := testenv.Binary(t, "LKPKG_COSIGN", "cosign")
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"DOCKER_CONFIG=" + filepath.Join(home, "docker"),
		"TUF_ROOT=" + filepath.Join(home, "tuf"),
		"COSIGN_PASSWORD=" + password,
		"COSIGN_YES=true",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("cosign %s (%.1fs): err=%v\n%s", strings.Join(args, " "), time.Since(start).Seconds(), err, indent(stderr.String()))
	return stdout.String(), stderr.String(), err
}

func indent(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// Flags the CLI needs for the plain-HTTP loopback registry.
var (
	regFlags    = []string{"--allow-http-registry=true", "--allow-insecure-registry=true"}
	signFlags   = append([]string{"--tlog-upload=false"}, regFlags...)
	verifyFlags = append([]string{"--insecure-ignore-tlog=true"}, regFlags...)
)

func cliVerify(t *testing.T, pub string, ref name.Digest) error {
	t.Helper()
	args := append(append([]string{"verify", "--key", pub}, verifyFlags...), ref.String())
	_, _, err := cli(t, t.TempDir(), args...)
	return err
}

func cliVerifyAttestation(t *testing.T, pub, typ string, ref name.Digest) (string, error) {
	t.Helper()
	args := append(append([]string{"verify-attestation", "--key", pub, "--type", typ}, verifyFlags...), ref.String())
	out, _, err := cli(t, t.TempDir(), args...)
	return out, err
}

func keys(t *testing.T) (*Signer, string) {
	t.Helper()
	priv, pub, err := GenerateKeys(t.TempDir(), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(priv, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	return s, pub
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pushImage(t *testing.T, repo string) name.Digest {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	return push(t, repo, img)
}

// pushSigned pushes a random image to repo and signs it with s.
func pushSigned(t *testing.T, ctx context.Context, s *Signer, repo string, ann map[string]string) name.Digest {
	t.Helper()
	ref := pushImage(t, repo)
	if err := s.Sign(ctx, ref, ann, ro); err != nil {
		t.Fatal(err)
	}
	return ref
}

func push(t *testing.T, repo string, img v1.Image) name.Digest {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewDigest(repo+"@"+d.String(), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	return ref
}

// pushIndex pushes a linux/amd64 + linux/arm64 index and returns its
// reference and its children's.
func pushIndex(t *testing.T, repo string) (name.Digest, []name.Digest) {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	var children []name.Digest
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		children = append(children, mustDigest(t, repo+"@"+d.String()))
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}},
		})
	}
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := mustDigest(t, repo+"@"+d.String())
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	return ref, children
}

// mustParse parses s (an insecure loopback reference) with parse.
func mustParse[T any](t *testing.T, parse func(string, ...name.Option) (T, error), s string) T {
	t.Helper()
	r, err := parse(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustDigest(t *testing.T, s string) name.Digest {
	t.Helper()
	return mustParse(t, name.NewDigest, s)
}

func mustTag(t *testing.T, s string) name.Tag { t.Helper(); return mustParse(t, name.NewTag, s) }

// integrationRepo starts an integration test against a fresh loopback
// registry and names a repository path in it.
func integrationRepo(t *testing.T, path string) (context.Context, string) {
	t.Helper()
	testenv.Integration(t)
	return context.Background(), testenv.Registry(t) + path
}

func TestGenerateKeys(t *testing.T) {
	dir := t.TempDir()
	priv, pub, err := GenerateKeys(dir, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	if priv != filepath.Join(dir, "cosign.key") || pub != filepath.Join(dir, "cosign.pub") {
		t.Fatalf("paths %s %s", priv, pub)
	}
	block, _ := pem.Decode(readFile(t, priv))
	if block == nil || block.Type != "ENCRYPTED SIGSTORE PRIVATE KEY" {
		t.Fatalf("private key PEM block %v", block)
	}
	for p, mode := range map[string]os.FileMode{priv: 0o600, pub: 0o644} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), mode)
		}
	}

	// The official CLI decrypts it and derives the same public key.
	if !testing.Short() {
		out, _, err := cli(t, dir, "public-key", "--key", priv)
		if err != nil {
			t.Fatalf("cosign public-key: %v", err)
		}
		if out != string(readFile(t, pub)) {
			t.Fatalf("cosign public-key printed\n%s\nwant cosign.pub\n%s", out, readFile(t, pub))
		}
	}

	// Never overwrite.
	before := readFile(t, priv)
	if _, _, err := GenerateKeys(dir, []byte("other")); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("second GenerateKeys: %v", err)
	}
	if !bytes.Equal(before, readFile(t, priv)) {
		t.Fatal("cosign.key was overwritten")
	}
	os.Remove(priv)
	if _, _, err := GenerateKeys(dir, []byte("other")); err == nil {
		t.Fatal("GenerateKeys overwrote cosign.pub")
	}

	if _, err := LoadSigner(priv+".missing", []byte(password)); err == nil {
		t.Fatal("LoadSigner of a missing file worked")
	}
	if err := os.WriteFile(priv, before, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigner(priv, []byte("wrong")); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("LoadSigner with a wrong password: %v", err)
	}
	s, err := LoadSigner(priv, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.PublicKeyPEM(), readFile(t, pub)) {
		t.Fatal("loaded key's public key differs from cosign.pub")
	}
}

func TestSignImageAndIndex(t *testing.T) {
	ctx, repo := integrationRepo(t, "/lkpkg/signed")
	s, pub := keys(t)
	pubPEM := readFile(t, pub)

	img := pushImage(t, repo)
	idx, children := pushIndex(t, repo)
	targets := append([]name.Digest{img, idx}, children...)
	for i, ref := range targets {
		var ann map[string]string
		if i == 0 {
			ann = map[string]string{"org.lkpkg.package": "hello", "org.lkpkg.version": "1.0"}
		}
		if err := s.Sign(ctx, ref, ann, ro); err != nil {
			t.Fatalf("Sign %s: %v", ref, err)
		}
	}
	// Signing again with the same key does not stack duplicates.
	if err := s.Sign(ctx, idx, nil, ro); err != nil {
		t.Fatal(err)
	}

	for _, ref := range targets {
		if err := cliVerify(t, pub, ref); err != nil {
			t.Errorf("cosign verify %s: %v", ref, err)
		}
		v, err := Verify(ctx, ref, pubPEM, ro)
		if err != nil {
			t.Errorf("Verify %s: %v", ref, err)
			continue
		}
		if v.Digest.String() != ref.DigestStr() || v.Signatures != 1 || v.Signer != s.Fingerprint() || len(v.Attestations) != 0 {
			t.Errorf("Verify %s: %+v (fingerprint %s)", ref, v, s.Fingerprint())
		}
	}

	// The CLI checks our annotations too.
	args := append(append([]string{"verify", "--key", pub, "-a", "org.lkpkg.package=hello"}, verifyFlags...), img.String())
	if _, _, err := cli(t, t.TempDir(), args...); err != nil {
		t.Errorf("cosign verify -a: %v", err)
	}
	args = append(append([]string{"verify", "--key", pub, "-a", "org.lkpkg.package=other"}, verifyFlags...), img.String())
	if _, _, err := cli(t, t.TempDir(), args...); err == nil {
		t.Errorf("cosign verify -a with a wrong annotation value succeeded")
	}
	// The signature is where cosign puts it.
	if _, err := remote.Head(mustTag(t, repo+":"+strings.Replace(img.DigestStr(), ":", "-", 1)+".sig")); err != nil {
		t.Errorf("no sha256-<hex>.sig tag: %v", err)
	}
}

// TestVerifyCLISigned: what the official CLI signs and attests, Verify
// accepts.
func TestVerifyCLISigned(t *testing.T) {
	ctx, repo := integrationRepo(t, "/lkpkg/cli")
	dir := t.TempDir()
	if _, _, err := cli(t, dir, "generate-key-pair"); err != nil {
		t.Fatalf("cosign generate-key-pair: %v", err)
	}
	key, pub := filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	ref := pushImage(t, repo)
	if _, _, err := cli(t, dir, append(append([]string{"sign", "--key", key}, signFlags...), ref.String())...); err != nil {
		t.Fatalf("cosign sign: %v", err)
	}
	pred := filepath.Join(dir, "provenance.json")
	if err := os.WriteFile(pred, slsaPredicate, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cli(t, dir, append(append([]string{"attest", "--key", key, "--type", "slsaprovenance1", "--predicate", pred}, signFlags...), ref.String())...); err != nil {
		t.Fatalf("cosign attest: %v", err)
	}
	v, err := Verify(ctx, ref, readFile(t, pub), ro)
	if err != nil {
		t.Fatalf("Verify of a CLI signature: %v", err)
	}
	if v.Signatures != 1 || strings.Join(v.Attestations, ",") != "https://slsa.dev/provenance/v1" {
		t.Fatalf("Verify: %+v", v)
	}
	// The CLI's key loads here too, and our signature verifies with the CLI.
	s, err := LoadSigner(key, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	other := pushSigned(t, ctx, s, repo, nil)
	if err := cliVerify(t, pub, other); err != nil {
		t.Fatalf("cosign verify: %v", err)
	}
}

var spdxPredicate = []byte(`{
  "spdxVersion": "SPDX-2.3",
  "dataLicense": "CC0-1.0",
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "hello-1.0",
  "documentNamespace": "https://lkpkg.dev/spdx/hello-1.0-3c5f3a1e",
  "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: lkpkg"]},
  "packages": [{
    "name": "hello",
    "SPDXID": "SPDXRef-Package-hello",
    "versionInfo": "1.0",
    "downloadLocation": "NOASSERTION",
    "filesAnalyzed": false,
    "licenseConcluded": "MIT",
    "licenseDeclared": "MIT",
    "copyrightText": "NOASSERTION"
  }],
  "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Package-hello"}]
}`)

var slsaPredicate = []byte(`{
  "buildDefinition": {
    "buildType": "https://lkpkg.dev/buildtypes/pkg/v1",
    "externalParameters": {"package": "hello", "platform": "linux/amd64"},
    "internalParameters": {},
    "resolvedDependencies": [{"uri": "pkg:docker/alpine@3.19", "digest": {"sha256": "0000000000000000000000000000000000000000000000000000000000000000"}}]
  },
  "runDetails": {
    "builder": {"id": "https://lkpkg.dev/builder/v1"},
    "metadata": {"invocationId": "test", "startedOn": "2024-01-01T00:00:00Z", "finishedOn": "2024-01-01T00:01:00Z"}
  }
}`)

func TestAttest(t *testing.T) {
	ctx, repo := integrationRepo(t, "/lkpkg/attested")
	s, pub := keys(t)
	ref := pushSigned(t, ctx, s, repo, nil)
	if err := s.Attest(ctx, ref, "https://spdx.dev/Document", spdxPredicate, ro); err != nil {
		t.Fatalf("Attest SPDX: %v", err)
	}
	if err := s.Attest(ctx, ref, "https://slsa.dev/provenance/v1", slsaPredicate, ro); err != nil {
		t.Fatalf("Attest SLSA: %v", err)
	}
	for typ, want := range map[string]string{"spdxjson": "SPDX-2.3", "slsaprovenance1": "https://lkpkg.dev/builder/v1"} {
		out, err := cliVerifyAttestation(t, pub, typ, ref)
		if err != nil {
			t.Errorf("cosign verify-attestation --type %s: %v", typ, err)
			continue
		}
		if !strings.Contains(decodedPayloads(t, out), want) {
			t.Errorf("cosign verify-attestation --type %s: output lacks %q", typ, want)
		}
	}
	// A type that was not attested is refused by the CLI.
	if _, err := cliVerifyAttestation(t, pub, "cyclonedx", ref); err == nil {
		t.Error("cosign verify-attestation --type cyclonedx succeeded")
	}
	v, err := Verify(ctx, ref, readFile(t, pub), ro)
	if err != nil {
		t.Fatal(err)
	}
	got := append([]string(nil), v.Attestations...)
	sort.Strings(got) // replacing an attestation moves it to the end
	if strings.Join(got, ",") != "https://slsa.dev/provenance/v1,https://spdx.dev/Document" || v.Signatures != 1 {
		t.Fatalf("Verify: %+v", v)
	}

	// Attesting again replaces, never piles up: still one of each type.
	if err := s.Attest(ctx, ref, "https://spdx.dev/Document", spdxPredicate, ro); err != nil {
		t.Fatal(err)
	}
	if v, err := Verify(ctx, ref, readFile(t, pub), ro); err != nil || len(v.Attestations) != 2 {
		t.Fatalf("after re-attesting: %+v %v", v, err)
	}

	// Bad input is refused before anything is pushed.
	if err := s.Attest(ctx, ref, "slsa", slsaPredicate, ro); err == nil {
		t.Error("Attest with a non-URI predicate type worked")
	}
	if err := s.Attest(ctx, ref, "https://slsa.dev/provenance/v1", []byte(`{"buildDefinition": {}}`), ro); err == nil {
		t.Error("Attest with an incomplete SLSA predicate worked")
	}
	if err := s.Attest(ctx, ref, "https://spdx.dev/Document", []byte(`not json`), ro); err == nil {
		t.Error("Attest with a non-JSON predicate worked")
	}
}

// decodedPayloads decodes the DSSE payloads `cosign verify-attestation`
// prints, one envelope per line.
func decodedPayloads(t *testing.T, out string) string {
	t.Helper()
	var all strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var env struct{ Payload string }
		if err := json.Unmarshal([]byte(line), &env); err != nil {
			continue
		}
		b, _ := base64.StdEncoding.DecodeString(env.Payload)
		all.Write(b)
	}
	return all.String()
}

// rawManifest pushes manifest bytes as they are.
type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.b, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// rewriteSig rewrites the first layer of the manifest at tag with edit
// (payload and annotations) and pushes it back.
func rewriteSig(t *testing.T, tag name.Tag, edit func(payload []byte, ann map[string]string) []byte) {
	t.Helper()
	desc, err := remote.Get(tag)
	if err != nil {
		t.Fatal(err)
	}
	img, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	l0 := &m.Layers[0]
	layer, err := img.LayerByDigest(l0.Digest)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(rc)
	rc.Close()
	payload := edit(buf.Bytes(), l0.Annotations)
	nl := static.NewLayer(payload, l0.MediaType)
	if err := remote.WriteLayer(tag.Repository, nl); err != nil {
		t.Fatal(err)
	}
	l0.Digest, _ = nl.Digest()
	l0.Size, _ = nl.Size()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(tag, rawManifest{b, desc.MediaType}); err != nil {
		t.Fatal(err)
	}
}

// sigTag is where cosign stores ref's signatures.
func sigTag(t *testing.T, ref name.Digest) name.Tag {
	t.Helper()
	tag, err := ociremote.SignatureTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	return mustTag(t, tag.String())
}

// refuse checks that both Verify and the official CLI refuse ref with
// the public key pub, Verify with wantErr (if not nil) and wantMsg.
func refuse(t *testing.T, ref name.Digest, pub string, wantErr error, wantMsg string) {
	t.Helper()
	_, err := Verify(context.Background(), ref, readFile(t, pub), ro)
	if err == nil {
		t.Fatalf("Verify accepted %s", ref)
	}
	t.Logf("Verify refused: %v", err)
	if wantErr != nil && !errors.Is(err, wantErr) {
		t.Errorf("error is not %v", wantErr)
	}
	if !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("error lacks %q", wantMsg)
	}
	if err := cliVerify(t, pub, ref); err == nil {
		t.Errorf("cosign verify accepted %s", ref)
	}
}

func TestRefusals(t *testing.T) {
	ctx, repo := integrationRepo(t, "/lkpkg/refused")
	s, pub := keys(t)
	pubPEM := readFile(t, pub)
	_, otherPub := keys(t)
	signed := func(t *testing.T, ann map[string]string) name.Digest {
		t.Helper()
		return pushSigned(t, ctx, s, repo, ann)
	}

	t.Run("wrong key", func(t *testing.T) {
		ref := signed(t, nil)
		refuse(t, ref, otherPub, ErrNoValidSignature, "does not verify with the public key")
	})
	t.Run("unsigned", func(t *testing.T) {
		ref := pushImage(t, repo)
		refuse(t, ref, pub, ErrNotSigned, "no cosign signature: nothing at "+sigTag(t, ref).String())
	})
	t.Run("missing manifest", func(t *testing.T) {
		ref := mustDigest(t, repo+"@sha256:"+strings.Repeat("ab", 32))
		if _, err := Verify(ctx, ref, pubPEM, ro); err == nil || !strings.Contains(err.Error(), "manifest not found") {
			t.Fatalf("Verify: %v", err)
		}
		if err := s.Sign(ctx, ref, nil, ro); err == nil || !strings.Contains(err.Error(), "manifest not found") {
			t.Fatalf("Sign: %v", err)
		}
	})
	t.Run("signature copied from another image", func(t *testing.T) {
		a, b := signed(t, nil), pushImage(t, repo)
		desc, err := remote.Get(sigTag(t, a))
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Tag(sigTag(t, b), desc); err != nil {
			t.Fatal(err)
		}
		refuse(t, b, pub, ErrNoValidSignature, "signed payload names another image than "+b.DigestStr())
	})
	t.Run("tampered payload", func(t *testing.T) {
		ref := signed(t, map[string]string{"purpose": "release"})
		rewriteSig(t, sigTag(t, ref), func(p []byte, _ map[string]string) []byte {
			q := bytes.Replace(p, []byte(`"release"`), []byte(`"hacked!"`), 1)
			if bytes.Equal(p, q) {
				t.Fatalf("payload has no annotation to tamper with: %s", p)
			}
			return q
		})
		refuse(t, ref, pub, ErrNoValidSignature, "does not verify with the public key")
	})
	t.Run("tampered signature annotation", func(t *testing.T) {
		ref := signed(t, nil)
		rewriteSig(t, sigTag(t, ref), func(p []byte, ann map[string]string) []byte {
			// A well-formed signature by the right key, over other bytes.
			raw, err := s.sv.SignMessage(bytes.NewReader([]byte("something else")))
			if err != nil {
				t.Fatal(err)
			}
			ann["dev.cosignproject.cosign/signature"] = base64.StdEncoding.EncodeToString(raw)
			return p
		})
		refuse(t, ref, pub, ErrNoValidSignature, "does not verify with the public key")
	})
	t.Run("tampered attestation", func(t *testing.T) {
		ref := signed(t, nil)
		if err := s.Attest(ctx, ref, "https://spdx.dev/Document", spdxPredicate, ro); err != nil {
			t.Fatal(err)
		}
		attTag, err := ociremote.AttestationTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		rewriteSig(t, mustTag(t, attTag.String()), func(p []byte, _ map[string]string) []byte {
			var env map[string]any
			if err := json.Unmarshal(p, &env); err != nil {
				t.Fatal(err)
			}
			st, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
			st = bytes.Replace(st, []byte("MIT"), []byte("GPL"), 1)
			env["payload"] = base64.StdEncoding.EncodeToString(st)
			b, _ := json.Marshal(env)
			return b
		})
		_, err = Verify(ctx, ref, pubPEM, ro)
		if err == nil || !errors.Is(err, ErrBadAttestation) || !strings.Contains(err.Error(), "predicateType https://spdx.dev/Document") {
			t.Fatalf("Verify of a tampered attestation: %v", err)
		}
		t.Logf("Verify refused: %v", err)
		if _, err := cliVerifyAttestation(t, pub, "spdxjson", ref); err == nil {
			t.Error("cosign verify-attestation accepted a tampered attestation")
		}
		// Attestations signed by another key are refused too.
		ref2 := signed(t, nil)
		other, _ := keys(t)
		if err := other.Attest(ctx, ref2, "https://slsa.dev/provenance/v1", slsaPredicate, ro); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(ctx, ref2, pubPEM, ro); !errors.Is(err, ErrBadAttestation) {
			t.Fatalf("Verify of another key's attestation: %v", err)
		}
	})
}
