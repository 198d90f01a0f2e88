package registry

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ErrPlainHTTP is returned for a plain-HTTP request that is not allowed.
var ErrPlainHTTP = errors.New("plain HTTP to a registry is only allowed with --insecure-registry and a loopback host")

// IsLoopback says whether host[:port] is localhost or a loopback address.
func IsLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// CheckInsecure refuses insecure access to a host that is not loopback.
func CheckInsecure(insecure bool, host string) error {
	if insecure && !IsLoopback(host) {
		return fmt.Errorf("%s: --insecure-registry is only allowed for loopback registries (localhost, 127.0.0.0/8, ::1)", host)
	}
	return nil
}

// guardTransport wraps base (nil = go-containerregistry's default
// transport) so that plain HTTP is refused unless insecure and the host is
// loopback, and TLS verification is skipped only then, per request: a
// token realm or a blob redirect on another host gets neither.
func guardTransport(base http.RoundTripper, insecure bool) http.RoundTripper {
	if base == nil {
		base = remote.DefaultTransport
	}
	g := &guard{secure: base, insecure: base, allowInsecure: insecure}
	if ht, ok := base.(*http.Transport); ok && insecure {
		ht = ht.Clone()
		if ht.TLSClientConfig == nil {
			ht.TLSClientConfig = &tls.Config{}
		}
		ht.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // explicit flag, loopback hosts only
		g.insecure = ht
	}
	return g
}

type guard struct {
	secure, insecure http.RoundTripper
	allowInsecure    bool
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	loop := g.allowInsecure && IsLoopback(req.URL.Host)
	if req.URL.Scheme == "http" && !loop {
		return nil, fmt.Errorf("%w (%s)", ErrPlainHTTP, req.URL.Host)
	}
	if loop {
		return g.insecure.RoundTrip(req)
	}
	return g.secure.RoundTrip(req)
}
