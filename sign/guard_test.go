package sign_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/lkpkg/lkpkg/registry"
	"github.com/lkpkg/lkpkg/sign"
	"github.com/lkpkg/lkpkg/sign/cosign"
	"github.com/lkpkg/lkpkg/sign/notation"
)

// leakRecorder is the transport under the registry guard: it records
// every request that got past the guard to a host that is not loopback
// (and never sends it), so a test can tell whether credentials would
// have left the machine.
type leakRecorder struct {
	mu     sync.Mutex
	leaked []string
}

func (l *leakRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if !registry.IsLoopback(req.URL.Host) {
		l.mu.Lock()
		l.leaked = append(l.leaked, req.Method+" "+req.URL.String()+" Authorization="+req.Header.Get("Authorization"))
		l.mu.Unlock()
		return nil, errors.New("test: request to a non-loopback host not sent")
	}
	return http.DefaultTransport.RoundTrip(req)
}

// staticKeychain answers every registry with the same user and password.
type staticKeychain struct{}

func (staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig{Username: "alice", Password: "s3cret"}), nil
}

// TestTokenRealmElsewhereRefused: a loopback registry (reached with
// --insecure-registry) that sends clients to a plain-HTTP token realm on
// another host gets no credentials sent there, by cosign, notation or the
// resolver alike: every client goes through the one guarded transport.
func TestTokenRealmElsewhereRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://evil.example/token",service="registry"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, err := name.NewDigest(host+"/lkpkg/x@sha256:"+strings.Repeat("a", 64), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}

	cosignSigner, cosignPub := cosignKeys(t)
	notationSigner := notationKeys(t)
	policy, store := notationPolicy(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range []struct {
		name string
		run  func(registry.Options) error
	}{
		{"cosign sign", func(ro registry.Options) error { return cosignSigner.Sign(ctx, ref, nil, ro) }},
		{"cosign attest", func(ro registry.Options) error {
			return cosignSigner.Attest(ctx, ref, "https://example.com/p", []byte(`{}`), ro)
		}},
		{"cosign verify", func(ro registry.Options) error { _, err := cosign.Verify(ctx, ref, cosignPub, ro); return err }},
		{"notation sign", func(ro registry.Options) error {
			return notationSigner.Sign(ctx, ref.String(), notation.EnvelopeJWS, ro)
		}},
		{"notation verify", func(ro registry.Options) error {
			_, err := notation.Verify(ctx, ref.String(), policy, store, ro)
			return err
		}},
		{"verify (cosign and notation)", func(ro registry.Options) error {
			_, err := sign.Verify(ctx, ref, sign.Policy{CosignPublicKey: cosignPub, NotationPolicy: policy, NotationTrustStore: store}, ro)
			return err
		}},
		{"resolve", func(ro registry.Options) error { _, err := sign.Resolve(ctx, host+"/lkpkg/x:1", ro); return err }},
		{"index", func(ro registry.Options) error {
			_, err := sign.Index(ctx, ref, sign.Signers{Cosign: cosignSigner, Notation: notationSigner}, nil, ro, nil)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &leakRecorder{}
			err := c.run(registry.Options{Insecure: true, Keychain: staticKeychain{}, Transport: rec})
			if err == nil {
				t.Fatal("succeeded against a registry that only answers 401")
			}
			if len(rec.leaked) > 0 {
				t.Fatalf("requests left for another host: %q", rec.leaked)
			}
			if !strings.Contains(err.Error(), "plain HTTP") {
				t.Errorf("error does not say why: %v", err)
			}
		})
	}
}

func cosignKeys(t *testing.T) (*cosign.Signer, []byte) {
	t.Helper()
	priv, _, err := cosign.GenerateKeys(t.TempDir(), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := cosign.LoadSigner(priv, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	return s, s.PublicKeyPEM()
}

func notationKeys(t *testing.T) *notation.Signer {
	t.Helper()
	_, cert, key, err := notation.GenerateTestCA(t.TempDir(), "guard test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := notation.LoadSigner(key, cert)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// notationPolicy is a strict trust policy for every registry and its
// trust store (one test CA as store "guard").
func notationPolicy(t *testing.T) (policy, store string) {
	t.Helper()
	dir := t.TempDir()
	ca, _, _, err := notation.GenerateTestCA(dir, "guard test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	store = filepath.Join(dir, "truststore")
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(store, "x509", "ca", "guard"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(store, "x509", "ca", "guard", "ca.crt"), pem, 0o644); err != nil {
		t.Fatal(err)
	}
	policy = filepath.Join(dir, "trustpolicy.json")
	doc := `{"version":"1.0","trustPolicies":[{"name":"guard","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:guard"],"trustedIdentities":["*"]}]}`
	if err := os.WriteFile(policy, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return policy, store
}
