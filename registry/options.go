package registry

import (
	"context"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	orasregistry "oras.land/oras-go/v2/registry"
	orasremote "oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// Options says how to reach a registry. The zero value is HTTPS with
// verified certificates and the user's docker credentials.
type Options struct {
	// Insecure allows plain HTTP and unverified TLS, and only to loopback
	// hosts (localhost, 127.0.0.0/8, ::1): Check refuses any other host,
	// and the transport refuses every other request.
	Insecure bool
	// Keychain resolves credentials; nil means authn.DefaultKeychain
	// (docker's config.json and its credential helpers).
	Keychain authn.Keychain
	// Transport is the HTTP transport under the loopback guard; nil means
	// go-containerregistry's remote.DefaultTransport.
	Transport http.RoundTripper
	// Backoff is the retry schedule of RetryOptions; zero means
	// DefaultBackoff.
	Backoff remote.Backoff
}

// Check refuses Insecure for a host that is not loopback.
func (o Options) Check(host string) error { return CheckInsecure(o.Insecure, host) }

// For is o for one host: Insecure is kept only when host is loopback, so
// a build that mixes a local test registry with public ones reaches the
// public ones over verified HTTPS.
func (o Options) For(host string) Options {
	o.Insecure = o.Insecure && IsLoopback(host)
	return o
}

// NameOptions are the go-containerregistry name options for o: name.Insecure
// when Insecure (references then default to plain HTTP).
func (o Options) NameOptions() []name.Option {
	if o.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// keychain is Keychain, or the docker keychain when none is set.
func (o Options) keychain() authn.Keychain {
	if o.Keychain == nil {
		return authn.DefaultKeychain
	}
	return o.Keychain
}

// RoundTripper is o.Transport behind the loopback guard: plain HTTP and
// unverified TLS only when Insecure and only to loopback hosts, for every
// request (token realms and redirects included).
func (o Options) RoundTripper() http.RoundTripper { return guardTransport(o.Transport, o.Insecure) }

// RemoteOptions are go-containerregistry's options for o: ctx,
// credentials and the guarded transport.
func (o Options) RemoteOptions(ctx context.Context) []remote.Option {
	return o.RemoteOptionsVia(ctx, o.RoundTripper())
}

// RemoteOptionsVia is RemoteOptions with rt as the transport; rt must
// wrap o.RoundTripper() (e.g. to count the bytes sent).
func (o Options) RemoteOptionsVia(ctx context.Context, rt http.RoundTripper) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(o.keychain()), remote.WithTransport(rt)}
}

// Repository is an oras-go client for ref's repository with o's
// credentials, retries and guarded transport (as notation-go uses it).
func (o Options) Repository(ref orasregistry.Reference) (*orasremote.Repository, error) {
	if err := o.Check(ref.Host()); err != nil {
		return nil, err
	}
	client := &auth.Client{
		Client:     &http.Client{Transport: retry.NewTransport(o.RoundTripper())},
		Cache:      auth.NewCache(),
		Credential: o.credential,
	}
	client.SetUserAgent("lkpkg")
	return &orasremote.Repository{Client: client, Reference: ref, PlainHTTP: o.Insecure}, nil
}

// credential answers oras-go's credential lookups from the keychain, so
// notation uses the same credentials as every other client.
func (o Options) credential(ctx context.Context, hostport string) (auth.Credential, error) {
	if hostport == "registry-1.docker.io" || hostport == "docker.io" {
		hostport = name.DefaultRegistry // where docker keeps Hub credentials
	}
	reg, err := name.NewRegistry(hostport, name.WeakValidation)
	if err != nil {
		return auth.EmptyCredential, err
	}
	a, err := authn.Resolve(ctx, o.keychain(), reg)
	if err != nil {
		return auth.EmptyCredential, err
	}
	cfg, err := authn.Authorization(ctx, a)
	if err != nil {
		return auth.EmptyCredential, err
	}
	return auth.Credential{Username: cfg.Username, Password: cfg.Password, RefreshToken: cfg.IdentityToken, AccessToken: cfg.RegistryToken}, nil
}
