// Package registry is the one place that decides how lkpkg reaches an OCI
// registry — the stage every push, signature, verification and image pull
// goes through. Options carries the three things every client needs: the
// keychain (credentials), the loopback-only insecure rule, and the retry
// schedule; its methods hand them to go-containerregistry (RemoteOptions),
// to oras-go/notation (Repository) and to anything else that speaks HTTP
// (RoundTripper).
//
// The rule it enforces: HTTPS with verified certificates, except that an
// explicit insecure flag allows plain HTTP and unverified TLS to loopback
// hosts only. go-containerregistry on its own falls back to HTTP for
// private and .local addresses, and oras-go's default client follows a
// token realm anywhere; both would send credentials in clear text, so every
// request, token fetches and redirects included, passes the same guard.
package registry
