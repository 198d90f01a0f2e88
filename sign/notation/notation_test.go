package notation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	notationgo "github.com/notaryproject/notation-go"
	notationregistry "github.com/notaryproject/notation-go/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/lkpkg/lkpkg/internal/testenv"
	"github.com/lkpkg/lkpkg/registry"
)

func TestGenerateTestCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	caPath, certPath, keyPath, err := GenerateTestCA(dir, "lkpkg-unit", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	s, err := LoadSigner(keyPath, certPath)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Subject(), "CN=lkpkg-unit,O=lkpkg,ST=Test,C=XX"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	if len(s.chain) != 2 || !s.chain[1].IsCA {
		t.Fatalf("chain: %d certificates", len(s.chain))
	}
	ca := readCerts(t, caPath)[0]
	if !ca.Equal(s.chain[1]) {
		t.Error("ca.crt is not the chain's root")
	}
	if s.chain[0].NotAfter.After(time.Now().Add(time.Hour)) {
		t.Errorf("leaf valid until %v", s.chain[0].NotAfter)
	}
	before, _ := os.ReadFile(keyPath)
	if _, _, _, err := GenerateTestCA(dir, "lkpkg-unit", time.Hour); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrite: %v", err)
	}
	if after, _ := os.ReadFile(keyPath); !bytes.Equal(before, after) {
		t.Fatal("key was overwritten")
	}
}

func TestLoadSignerRefusesExpired(t *testing.T) {
	dir := t.TempDir()
	_, certPath, keyPath, err := generateCA(dir, "old", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadSigner(keyPath, certPath)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("want an expiry error, got %v", err)
	}
	t.Log(err)
}

func TestRemoteRefusals(t *testing.T) {
	ctx := context.Background()
	s, _, _, _ := testSigner(t, t.TempDir(), "x", time.Hour)
	dgst := "@sha256:" + strings.Repeat("a", 64)
	for _, c := range []struct{ ref, env, want string }{
		{"example.com/r" + dgst, "jws", "only allowed for loopback"},
		{"127.0.0.1:1/r:latest", "jws", "must name a digest"},
		{"127.0.0.1:1/r" + dgst, "pgp", "unknown signature envelope"},
	} {
		err := s.Sign(ctx, c.ref, c.env, registry.Options{Insecure: true})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Sign(%s, %s): %v, want %q", c.ref, c.env, err, c.want)
		}
	}
}

// cli runs the official notation CLI with its own config, cache and
// docker config.
type cli struct {
	bin, home string
}

func newCLI(t *testing.T) *cli {
	return &cli{bin: testenv.Binary(t, "LKPKG_NOTATION", "notation"), home: t.TempDir()}
}

func (c *cli) configDir() string { return filepath.Join(c.home, ".config", "notation") }

func (c *cli) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(),
		"HOME="+c.home,
		"XDG_CONFIG_HOME="+filepath.Join(c.home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(c.home, ".cache"),
		"DOCKER_CONFIG="+filepath.Join(c.home, ".docker"),
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("$ notation %s (%v)\n%s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), out)
	return string(out), err
}

func (c *cli) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.run(t, args...)
	if err != nil {
		t.Fatalf("notation %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (c *cli) mustFail(t *testing.T, want string, args ...string) {
	t.Helper()
	out, err := c.run(t, args...)
	if err == nil {
		t.Fatalf("notation %s succeeded, want a failure", strings.Join(args, " "))
	}
	if !strings.Contains(out, want) {
		t.Errorf("notation %s: output lacks %q", strings.Join(args, " "), want)
	}
}

const policyTemplate = `{
  "version": "1.0",
  "trustPolicies": [{
    "name": "lkpkg-test",
    "registryScopes": [%s],
    "signatureVerification": {"level": %q},
    "trustStores": ["ca:%s"],
    "trustedIdentities": [%s]
  }]
}`

// trustConfig writes a trust policy (one statement trusting store "ca:name"
// for scope, "*" = all) and a trust store {dir}/truststore/x509/ca/name/
// holding certFile.
func trustConfig(t *testing.T, name, certFile, scope, level, identity string) (policyPath, storeDir string) {
	t.Helper()
	dir := t.TempDir()
	storeDir = filepath.Join(dir, "truststore")
	caDir := filepath.Join(storeDir, "x509", "ca", name)
	if err := os.MkdirAll(caDir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(caDir, filepath.Base(certFile)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	policyPath = filepath.Join(dir, "trustpolicy.json")
	policy := fmt.Sprintf(policyTemplate, quoteList(scope), level, name, quoteList(identity))
	if err := os.WriteFile(policyPath, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return policyPath, storeDir
}

func quoteList(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// testSigner generates a test CA into dir and loads its signer.
func testSigner(t *testing.T, dir, commonName string, validity time.Duration) (s *Signer, caPath, certPath, keyPath string) {
	t.Helper()
	caPath, certPath, keyPath, err := GenerateTestCA(dir, commonName, validity)
	if err != nil {
		t.Fatal(err)
	}
	if s, err = LoadSigner(keyPath, certPath); err != nil {
		t.Fatal(err)
	}
	return s, caPath, certPath, keyPath
}

// readCerts reads the PEM certificates in file p (at least one).
func readCerts(t *testing.T, p string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(p)
	var certs []*x509.Certificate
	if err == nil {
		certs, err = parsePEMCerts(b)
	}
	if err != nil || len(certs) == 0 {
		t.Fatalf("%s: %v", p, err)
	}
	return certs
}

func parsePEMCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return certs, nil
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
}

// pushImage pushes a small random image to host/name and returns
// host/name@sha256:... and its descriptor.
func pushImage(t *testing.T, ctx context.Context, host, name string) (string, ocispec.Descriptor) {
	t.Helper()
	repo := plainRepo(t, host, name)
	layer := make([]byte, 512)
	rand.Read(layer)
	layerDesc, err := oras.PushBytes(ctx, repo, ocispec.MediaTypeImageLayerGzip, layer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cfgDesc, err := oras.PushBytes(ctx, repo, ocispec.MediaTypeImageConfig, cfg)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "", oras.PackManifestOptions{
		Layers: []ocispec.Descriptor{layerDesc}, ConfigDescriptor: &cfgDesc,
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s/%s@%s", host, name, desc.Digest), desc
}

func plainRepo(t *testing.T, host, name string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(host + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	return repo
}

// backdatedSigner signs with a signing time of its choosing, so that a
// certificate that has expired by now was valid at signing time.
// (notation-go's GenericSigner always signs at time.Now() and the
// envelope refuses a chain that is invalid at signing time.)
type backdatedSigner struct {
	key   crypto.PrivateKey
	chain []*x509.Certificate
	at    time.Time
}

func (b backdatedSigner) Sign(ctx context.Context, desc ocispec.Descriptor, opts notationgo.SignerSignOptions) ([]byte, *signature.SignerInfo, error) {
	payload, err := json.Marshal(map[string]any{"targetArtifact": ocispec.Descriptor{
		MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, Annotations: desc.Annotations,
	}})
	if err != nil {
		return nil, nil, err
	}
	ls, err := signature.NewLocalSigner(b.chain, b.key)
	if err != nil {
		return nil, nil, err
	}
	env, err := signature.NewEnvelope(opts.SignatureMediaType)
	if err != nil {
		return nil, nil, err
	}
	sig, err := env.Sign(&signature.SignRequest{
		Payload:       signature.Payload{ContentType: "application/vnd.cncf.notary.payload.v1+json", Content: payload},
		Signer:        ls,
		SigningTime:   b.at,
		SigningScheme: signature.SigningSchemeX509,
		SigningAgent:  "lkpkg-test",
	})
	if err != nil {
		return nil, nil, err
	}
	c, err := env.Content()
	if err != nil {
		return nil, nil, err
	}
	return sig, &c.SignerInfo, nil
}

// TestInterop signs and verifies against a real registry (CNCF
// distribution v3) with the official notation CLI as the judge, in both
// directions, and checks the refusals.
func TestInterop(t *testing.T) {
	testenv.Integration(t)
	f := newInterop(t)
	for _, c := range []struct {
		name string
		run  func(*testing.T, *interop)
	}{
		{"OursSignCLIVerifies", interopOursSignCLIVerifies},
		{"ReferrersStorage", interopReferrersStorage},
		{"CLISignOursVerifies", interopCLISignOursVerifies},
		{"TrustedIdentity", interopTrustedIdentity},
		{"RefuseUnsigned", interopRefuseUnsigned},
		{"RefuseUntrustedCA", interopRefuseUntrustedCA},
		{"RefuseExpiredBackdated", interopRefuseExpiredBackdated},
		{"RefuseExpiredShortLived", interopRefuseExpiredShortLived},
		{"RefuseTampered", interopRefuseTampered},
		{"RefuseOtherDigest", interopRefuseOtherDigest},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, f) })
	}
}

// interop is the shared fixture of TestInterop's cases: a registry, our
// signer and trust configuration, the official CLI trusting our CA, and
// one pushed image.
type interop struct {
	ctx                       context.Context
	host                      string
	ro                        registry.Options
	keys                      string
	caPath, certPath, keyPath string
	signer                    *Signer
	policy, store             string
	judge                     *cli
	ref                       string
	desc                      ocispec.Descriptor
}

func newInterop(t *testing.T) *interop {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	f := &interop{ctx: ctx, host: testenv.Registry(t), keys: t.TempDir()}
	f.ro = registry.Options{Insecure: true, Keychain: authn.NewMultiKeychain()} // anonymous
	f.signer, f.caPath, f.certPath, f.keyPath = testSigner(t, f.keys, "lkpkg-test", 24*time.Hour)
	f.policy, f.store = trustConfig(t, "lkpkg", f.caPath, "*", "strict", "*")
	// The CLI, trusting our CA.
	f.judge = newCLI(t)
	f.judge.must(t, "cert", "add", "--type", "ca", "--store", "lkpkg", f.caPath)
	f.judge.must(t, "policy", "import", "--force", f.policy)
	f.ref, f.desc = pushImage(t, ctx, f.host, "lkpkg/signed")
	return f
}

func interopOursSignCLIVerifies(t *testing.T, f *interop) {
	for _, env := range []string{EnvelopeJWS, EnvelopeCOSE} {
		start := time.Now()
		if err := f.signer.Sign(f.ctx, f.ref, env, f.ro); err != nil {
			t.Fatal(err)
		}
		t.Logf("Sign(%s) %v", env, time.Since(start).Round(time.Millisecond))
	}
	start := time.Now()
	v, err := Verify(f.ctx, f.ref, f.policy, f.store, f.ro)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Verify %v: %+v", time.Since(start).Round(time.Millisecond), *v)
	if v.Digest != f.desc.Digest.String() || v.Signatures != 2 || v.Signer != f.signer.Subject() || (v.Envelope != "jws" && v.Envelope != "cose") {
		t.Errorf("Verified %+v", *v)
	}
	out := f.judge.must(t, "verify", "--insecure-registry", f.ref)
	if !strings.Contains(out, "Successfully verified") {
		t.Errorf("notation verify: %s", out)
	}
	list := f.judge.must(t, "list", "--insecure-registry", f.ref)
	sigs := referrers(t, f.ctx, f.host, "lkpkg/signed", f.desc)
	if len(sigs) != 2 {
		t.Fatalf("%d signature referrers, want 2", len(sigs))
	}
	for _, s := range sigs {
		if !strings.Contains(list, s.Digest.String()) {
			t.Errorf("notation list lacks signature %s", s.Digest)
		}
	}
	if !strings.Contains(list, ArtifactType) {
		t.Errorf("notation list lacks %s", ArtifactType)
	}
}

func interopReferrersStorage(t *testing.T, f *interop) {
	// Does the registry have the OCI 1.1 referrers API?
	resp, err := http.Get(fmt.Sprintf("http://%s/v2/lkpkg/signed/referrers/%s", f.host, f.desc.Digest))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var manifests []ocispec.Descriptor
	repo := plainRepo(t, f.host, "lkpkg/signed")
	if resp.StatusCode == http.StatusOK {
		t.Logf("registry serves the referrers API")
		manifests = referrers(t, f.ctx, f.host, "lkpkg/signed", f.desc)
	} else {
		// Referrers tag schema: an index tagged sha256-<hex>.
		tag := "sha256-" + f.desc.Digest.Encoded()
		t.Logf("no referrers API (HTTP %d): checking tag %s", resp.StatusCode, tag)
		idxDesc, rc, err := repo.FetchReference(f.ctx, tag)
		if err != nil {
			t.Fatalf("referrers tag %s: %v", tag, err)
		}
		data, err := content.ReadAll(rc, idxDesc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(data, &idx); err != nil {
			t.Fatal(err)
		}
		if idxDesc.MediaType != ocispec.MediaTypeImageIndex {
			t.Errorf("referrers tag is a %s", idxDesc.MediaType)
		}
		manifests = idx.Manifests
	}
	if len(manifests) != 2 {
		t.Fatalf("%d referrers, want 2", len(manifests))
	}
	envelopes := map[string]bool{}
	for _, m := range manifests {
		if m.ArtifactType != ArtifactType {
			t.Errorf("referrer %s has artifactType %q", m.Digest, m.ArtifactType)
		}
		b, err := content.FetchAll(f.ctx, repo, m)
		if err != nil {
			t.Fatal(err)
		}
		var man ocispec.Manifest
		if err := json.Unmarshal(b, &man); err != nil {
			t.Fatal(err)
		}
		if man.Subject == nil || man.Subject.Digest != f.desc.Digest || len(man.Layers) != 1 {
			t.Errorf("signature manifest %s: %s", m.Digest, b)
			continue
		}
		envelopes[man.Layers[0].MediaType] = true
	}
	if !envelopes[jws.MediaTypeEnvelope] || !envelopes[cose.MediaTypeEnvelope] {
		t.Errorf("envelopes %v", envelopes)
	}
}

func interopCLISignOursVerifies(t *testing.T, f *interop) {
	c := newCLI(t)
	c.must(t, "cert", "generate-test", "--default", "cli-test")
	cliRef, _ := pushImage(t, f.ctx, f.host, "lkpkg/cli-signed")
	c.must(t, "sign", "--insecure-registry", cliRef)
	c.must(t, "sign", "--insecure-registry", "--signature-format", "cose", cliRef)
	cliCert := filepath.Join(c.configDir(), "localkeys", "cli-test.crt")
	p, s := trustConfig(t, "cli-test", cliCert, f.host+"/lkpkg/cli-signed", "strict", "*")
	start := time.Now()
	v, err := Verify(f.ctx, cliRef, p, s, f.ro)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Verify %v: %+v", time.Since(start).Round(time.Millisecond), *v)
	if v.Signatures != 2 || !strings.Contains(v.Signer, "CN=cli-test") {
		t.Errorf("Verified %+v", *v)
	}
	// The CLI's own trust store directory has the same layout.
	if _, err := Verify(f.ctx, cliRef, p, filepath.Join(c.configDir(), "truststore"), f.ro); err != nil {
		t.Errorf("with the CLI's trust store: %v", err)
	}
	// Our CA does not vouch for the CLI's key.
	if _, err := Verify(f.ctx, cliRef, f.policy, f.store, f.ro); !errors.Is(err, ErrRejected) {
		t.Errorf("CLI signature against our CA: %v", err)
	}
}

func interopTrustedIdentity(t *testing.T, f *interop) {
	p, s := trustConfig(t, "lkpkg", f.caPath, f.host+"/lkpkg/signed", "strict", "x509.subject: "+f.signer.Subject())
	if _, err := Verify(f.ctx, f.ref, p, s, f.ro); err != nil {
		t.Errorf("pinned identity: %v", err)
	}
	p, s = trustConfig(t, "lkpkg", f.caPath, "*", "strict", "x509.subject: CN=someone-else,O=lkpkg,ST=Test,C=XX")
	_, err := Verify(f.ctx, f.ref, p, s, f.ro)
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "authenticity") {
		t.Errorf("other identity: %v", err)
	}
	t.Log(err)
	p, s = trustConfig(t, "lkpkg", f.caPath, "example.com/other", "strict", "*")
	_, err = Verify(f.ctx, f.ref, p, s, f.ro)
	if err == nil || !strings.Contains(err.Error(), "no applicable trust policy") {
		t.Errorf("no applicable statement: %v", err)
	}
	t.Log(err)
	skip := filepath.Join(t.TempDir(), "skip.json")
	os.WriteFile(skip, []byte(`{"version":"1.0","trustPolicies":[{"name":"skip-all","registryScopes":["*"],"signatureVerification":{"level":"skip"}}]}`), 0o644)
	_, err = Verify(f.ctx, f.ref, skip, s, f.ro)
	if err == nil || !strings.Contains(err.Error(), "skips verification") {
		t.Errorf("skip level: %v", err)
	}
	t.Log(err)
}

func interopRefuseUnsigned(t *testing.T, f *interop) {
	u, _ := pushImage(t, f.ctx, f.host, "lkpkg/unsigned")
	_, err := Verify(f.ctx, u, f.policy, f.store, f.ro)
	if !errors.Is(err, ErrNotSigned) {
		t.Fatalf("want ErrNotSigned, got %v", err)
	}
	t.Log(err)
	f.judge.mustFail(t, "no signature is associated", "verify", "--insecure-registry", u)
}

func interopRefuseUntrustedCA(t *testing.T, f *interop) {
	os2, _, _, _ := testSigner(t, t.TempDir(), "lkpkg-test", time.Hour) // same names, other CA
	u, _ := pushImage(t, f.ctx, f.host, "lkpkg/untrusted")
	if err := os2.Sign(f.ctx, u, EnvelopeJWS, f.ro); err != nil {
		t.Fatal(err)
	}
	_, err := Verify(f.ctx, u, f.policy, f.store, f.ro)
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "authenticity check failed") {
		t.Fatalf("want an authenticity failure, got %v", err)
	}
	t.Log(err)
	f.judge.mustFail(t, "the signature's certificate chain does not contain any trusted certificate", "verify", "-v", "--insecure-registry", u)
}

func interopRefuseExpiredBackdated(t *testing.T, f *interop) {
	// A chain valid from -2h to -1h, signed at -90m: the envelope is
	// sound, but the certificate has expired by verification time.
	dir := t.TempDir()
	eca, ecert, ekey, err := generateCA(dir, "lkpkg-expired", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(ecert, ekey)
	if err != nil {
		t.Fatal(err)
	}
	chain := readCerts(t, ecert)
	u, _ := pushImage(t, f.ctx, f.host, "lkpkg/expired")
	_, err = notationgo.Sign(f.ctx, backdatedSigner{pair.PrivateKey, chain, time.Now().Add(-90 * time.Minute)},
		notationregistry.NewRepository(plainRepo(t, f.host, "lkpkg/expired")),
		notationgo.SignOptions{SignerSignOptions: notationgo.SignerSignOptions{SignatureMediaType: jws.MediaTypeEnvelope}, ArtifactReference: u})
	if err != nil {
		t.Fatal(err)
	}
	strictPolicy, s := trustConfig(t, "expired", eca, "*", "strict", "*")
	_, err = Verify(f.ctx, u, strictPolicy, s, f.ro)
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "authenticTimestamp check failed") || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("want an expiry failure, got %v", err)
	}
	t.Log(err)
	// The policy level "permissive" only logs authenticTimestamp
	// failures; lkpkg enforces them anyway.
	p, s := trustConfig(t, "expired", eca, "*", "permissive", "*")
	_, err = Verify(f.ctx, u, p, s, f.ro)
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "enforced by lkpkg") {
		t.Fatalf("permissive: want an enforced expiry failure, got %v", err)
	}
	t.Log(err)
	c := newCLI(t)
	c.must(t, "cert", "add", "--type", "ca", "--store", "expired", eca)
	c.must(t, "policy", "import", "--force", strictPolicy)
	c.mustFail(t, "verification time is after certificate", "verify", "-v", "--insecure-registry", u)
}

func interopRefuseExpiredShortLived(t *testing.T, f *interop) {
	// A real signature by our Signer with a certificate valid for
	// three seconds, verified after it expired.
	ss, sca, scert, skey := testSigner(t, t.TempDir(), "lkpkg-short", 3*time.Second)
	u, _ := pushImage(t, f.ctx, f.host, "lkpkg/short")
	if err := ss.Sign(f.ctx, u, EnvelopeCOSE, f.ro); err != nil {
		t.Fatal(err)
	}
	p, s := trustConfig(t, "short", sca, "*", "strict", "*")
	if _, err := Verify(f.ctx, u, p, s, f.ro); err != nil {
		t.Logf("verify before expiry: %v", err) // may race the expiry on a slow machine
	}
	time.Sleep(time.Until(ss.chain[0].NotAfter.Add(1100 * time.Millisecond)))
	_, err := Verify(f.ctx, u, p, s, f.ro)
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("want an expiry failure, got %v", err)
	}
	t.Log(err)
	if _, err := LoadSigner(skey, scert); err == nil {
		t.Error("LoadSigner accepted an expired certificate")
	}
}

func interopRefuseTampered(t *testing.T, f *interop) {
	name := "lkpkg/tampered"
	u, d := pushImage(t, f.ctx, f.host, name)
	nrepo := notationregistry.NewRepository(plainRepo(t, f.host, name))
	for _, mt := range []string{jws.MediaTypeEnvelope, cose.MediaTypeEnvelope} {
		blob, _, err := f.signer.signer.Sign(f.ctx, d, notationgo.SignerSignOptions{SignatureMediaType: mt})
		if err != nil {
			t.Fatal(err)
		}
		bad := tamper(t, mt, blob)
		if _, _, err := nrepo.PushSignature(f.ctx, mt, bad, d, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Verify(f.ctx, u, f.policy, f.store, f.ro)
	if !errors.Is(err, ErrRejected) || strings.Count(err.Error(), "integrity check failed") != 2 {
		t.Fatalf("want two integrity failures, got %v", err)
	}
	t.Log(err)
	f.judge.mustFail(t, "signature is invalid", "verify", "-v", "--insecure-registry", u)

	// A genuine signature beside the tampered ones verifies; the
	// tampered ones are not counted.
	if err := f.signer.Sign(f.ctx, u, EnvelopeJWS, f.ro); err != nil {
		t.Fatal(err)
	}
	v, err := Verify(f.ctx, u, f.policy, f.store, f.ro)
	if err != nil || v.Signatures != 1 {
		t.Fatalf("with a genuine signature: %+v, %v", v, err)
	}
}

func interopRefuseOtherDigest(t *testing.T, f *interop) {
	// A valid signature of image A attached to image B.
	_, a := pushImage(t, f.ctx, f.host, "lkpkg/moved")
	b, bd := pushImage(t, f.ctx, f.host, "lkpkg/moved")
	blob, _, err := f.signer.signer.Sign(f.ctx, a, notationgo.SignerSignOptions{SignatureMediaType: jws.MediaTypeEnvelope})
	if err != nil {
		t.Fatal(err)
	}
	nrepo := notationregistry.NewRepository(plainRepo(t, f.host, "lkpkg/moved"))
	if _, _, err := nrepo.PushSignature(f.ctx, jws.MediaTypeEnvelope, blob, bd, nil); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(f.ctx, b, f.policy, f.store, f.ro)
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "signature is over another artifact ("+a.Digest.String()) {
		t.Fatalf("want a digest mismatch, got %v", err)
	}
	t.Log(err)
	f.judge.mustFail(t, "content descriptor mismatch", "verify", "-v", "--insecure-registry", b)
}

// tamper changes a signed envelope without re-signing it: for JWS the
// payload's target size, for COSE the last byte (inside the signature).
func tamper(t *testing.T, mediaType string, blob []byte) []byte {
	t.Helper()
	if mediaType == cose.MediaTypeEnvelope {
		bad := bytes.Clone(blob)
		bad[len(bad)-1] ^= 0x01
		return bad
	}
	var env map[string]any
	if err := json.Unmarshal(blob, &env); err != nil {
		t.Fatal(err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]map[string]any
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	p["targetArtifact"]["size"] = p["targetArtifact"]["size"].(float64) + 1
	payload, _ = json.Marshal(p)
	env["payload"] = base64.RawURLEncoding.EncodeToString(payload)
	bad, _ := json.Marshal(env)
	return bad
}

// referrers lists the notation signatures of desc the way oras finds them
// (referrers API, else the referrers tag schema).
func referrers(t *testing.T, ctx context.Context, host, name string, desc ocispec.Descriptor) []ocispec.Descriptor {
	t.Helper()
	var out []ocispec.Descriptor
	err := plainRepo(t, host, name).Referrers(ctx, desc, ArtifactType, func(r []ocispec.Descriptor) error {
		out = append(out, r...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
