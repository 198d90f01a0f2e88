package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// A loopback registry (reached with --insecure-registry) that answers 401
// with a plain-HTTP token realm on another host must get no credentials
// sent there, by sign or verify, cosign or notation: every registry client
// goes through the one guarded transport. evil.example is reached through
// HTTP_PROXY, a listener that records every request it gets: it must get
// none.
func init() {
	for _, c := range []struct {
		name string
		// go-containerregistry (cosign) asks for a token only when the
		// first request, the ping, is challenged; oras (notation) on any
		// 401, so its ping is answered.
		challengePing bool
		args          func(k realmKeys, ref string) []string
	}{
		{"notation verify", false, func(k realmKeys, ref string) []string {
			return []string{"verify", "--insecure-registry", "--notation-policy", k.policy, "--notation-truststore", k.store, ref}
		}},
		{"notation sign", false, func(k realmKeys, ref string) []string {
			return []string{"sign", "--insecure-registry", "--notation-key", k.notationKey, "--notation-cert", k.notationCert, ref}
		}},
		{"cosign verify", true, func(k realmKeys, ref string) []string {
			return []string{"verify", "--insecure-registry", "--key", k.cosignPub, ref}
		}},
		{"cosign sign", true, func(k realmKeys, ref string) []string {
			return []string{"sign", "--insecure-registry", "--key", k.cosignKey, ref}
		}},
	} {
		registerHostile(hostileInput{
			name: c.name + " with a token realm on another host",
			setup: func(t *testing.T, dir string) []string {
				ref := evilRealmRegistry(t, dir, c.challengePing)
				return c.args(writeRealmKeys(t, dir), ref)
			},
			want:       []string{"plain HTTP to a registry is only allowed", "evil.example"},
			maxTime:    10 * time.Second,
			maxRSS:     192 << 20, // cosign sign's scrypt
			maxWritten: 256 << 10,
			after: func(t *testing.T, dir string) {
				if got, _ := os.ReadFile(filepath.Join(dir, "evil.log")); len(got) > 0 {
					t.Errorf("evil.example received:\n%s", got)
				}
			},
		})
	}
}

// evilRealmRegistry starts a registry on 127.0.0.1 that serves one image
// manifest and its config (so the reference resolves and reads), and the
// ping unless challengePing, and answers every other request with 401 and a token realm at http://evil.example/token, and a proxy
// standing in for every other host (HTTP_PROXY) that logs what it gets to
// dir/evil.log. lkpkg gets credentials for the registry (DOCKER_CONFIG).
// It returns the image's reference by digest.
func evilRealmRegistry(t *testing.T, dir string, challengePing bool) string {
	t.Helper()
	var mu sync.Mutex
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(filepath.Join(dir, "evil.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%s %s Host=%s Authorization=%s\n", r.Method, r.URL, r.Host, r.Header.Get("Authorization"))
			f.Close()
		}
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(evil.Close)

	const config = "{}"
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`, sha256Digest(config), len(config))
	digest := sha256Digest(manifest)
	serve := func(w http.ResponseWriter, r *http.Request, mediaType, body string) {
		w.Header().Set("Content-Type", mediaType)
		w.Header().Set("Docker-Content-Digest", sha256Digest(body))
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method == http.MethodGet {
			io.WriteString(w, body)
		}
	}
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		read := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case r.URL.Path == "/v2/" && !challengePing:
			w.WriteHeader(http.StatusOK)
		case read && r.URL.Path == "/v2/lkpkg/x/manifests/"+digest:
			serve(w, r, "application/vnd.oci.image.manifest.v1+json", manifest)
		case read && r.URL.Path == "/v2/lkpkg/x/blobs/"+sha256Digest(config):
			serve(w, r, "application/octet-stream", config)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://evil.example/token",service="registry"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")

	auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	writeFile(t, filepath.Join(dir, "docker", "config.json"), fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth))
	for k, v := range map[string]string{
		"DOCKER_CONFIG": filepath.Join(dir, "docker"),
		"HTTP_PROXY":    evil.URL, "http_proxy": evil.URL, "NO_PROXY": "", "no_proxy": "",
		"COSIGN_PASSWORD": "pw",
	} {
		t.Setenv(k, v)
	}
	return host + "/lkpkg/x@" + digest
}

// realmKeys are signing keys and a notation trust policy, all valid.
type realmKeys struct {
	cosignKey, cosignPub      string
	notationKey, notationCert string
	policy, store             string
}

func writeRealmKeys(t *testing.T, dir string) realmKeys {
	t.Helper()
	// By lkpkg, in a process of its own: the cosign key's scrypt would
	// swell this one, whose peak RSS a child's rusage inherits.
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.LkpkgBinary(t), "keys", "generate", "--notation", "-d", keys)
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=pw")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keys generate: %v\n%s", err, out)
	}
	k := realmKeys{
		cosignKey: filepath.Join(keys, "cosign.key"), cosignPub: filepath.Join(keys, "cosign.pub"),
		notationKey: filepath.Join(keys, "signing.key"), notationCert: filepath.Join(keys, "signing.crt"),
	}
	pem, err := os.ReadFile(filepath.Join(keys, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	k.store = filepath.Join(dir, "truststore")
	writeFile(t, filepath.Join(k.store, "x509", "ca", "lkpkg", "ca.crt"), string(pem))
	k.policy = filepath.Join(dir, "trustpolicy.json")
	writeFile(t, k.policy, trustPolicyJSON("lkpkg"))
	return k
}

func sha256Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}
