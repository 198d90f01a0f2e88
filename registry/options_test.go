package registry

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	orasregistry "oras.land/oras-go/v2/registry"
)

// TestCredentialFromDockerConfig: oras-go clients (notation) get the same
// credentials as go-containerregistry ones, from docker's config.json.
func TestCredentialFromDockerConfig(t *testing.T) {
	dir := t.TempDir()
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cfg := `{"auths":{"registry.example.com":{"auth":"` + enc("alice:s3cret") + `"},"https://index.docker.io/v1/":{"auth":"` + enc("hub:pw") + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	for _, c := range []struct {
		host, user, pass string
		keychain         authn.Keychain
	}{
		{"registry.example.com", "alice", "s3cret", nil},
		{"registry-1.docker.io", "hub", "pw", nil},
		{"docker.io", "hub", "pw", nil},
		{"other.example.com", "", "", nil},
		{"registry.example.com", "", "", authn.NewMultiKeychain()}, // anonymous
	} {
		got, err := Options{Keychain: c.keychain}.credential(context.Background(), c.host)
		if err != nil {
			t.Fatal(err)
		}
		if got.Username != c.user || got.Password != c.pass {
			t.Errorf("%s: %q/%q, want %q/%q", c.host, got.Username, got.Password, c.user, c.pass)
		}
	}
	// A missing config is no credentials, not an error.
	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "missing"))
	if got, err := (Options{}).credential(context.Background(), "registry.example.com"); err != nil || got.Username != "" {
		t.Errorf("missing config: %+v, %v", got, err)
	}
}

func TestOptions(t *testing.T) {
	for _, c := range []struct {
		host           string
		insecure       bool
		forInsecure    bool
		checkOK, nameI bool
	}{
		{"127.0.0.1:5000", true, true, true, true},
		{"localhost:5000", true, true, true, true},
		{"registry.example.com", true, false, false, true},
		{"registry.example.com", false, false, true, false},
	} {
		o := Options{Insecure: c.insecure}
		if got := o.For(c.host).Insecure; got != c.forInsecure {
			t.Errorf("For(%s).Insecure = %v", c.host, got)
		}
		if err := o.Check(c.host); (err == nil) != c.checkOK {
			t.Errorf("Check(%s) with insecure=%v: %v", c.host, c.insecure, err)
		}
		if got := len(o.NameOptions()) > 0; got != c.nameI {
			t.Errorf("NameOptions with insecure=%v: %v", c.insecure, got)
		}
		ref := orasregistry.Reference{Registry: c.host, Repository: "x"}
		repo, err := o.Repository(ref)
		if (err == nil) != c.checkOK {
			t.Errorf("Repository(%s) with insecure=%v: %v", c.host, c.insecure, err)
		}
		if err == nil && repo.PlainHTTP != c.insecure {
			t.Errorf("Repository(%s).PlainHTTP = %v", c.host, repo.PlainHTTP)
		}
	}
}
