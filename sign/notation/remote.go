// Package notation signs and verifies OCI artifacts with Notary Project
// (notation) signatures, interoperable with the official notation CLI.
//
// Signatures are stored as OCI 1.1 referrers of the signed manifest
// (artifactType application/vnd.cncf.notary.signature). Registries without
// the referrers API (e.g. CNCF distribution v3) get the referrers tag
// schema instead: an index tagged sha256-<hex of the subject digest>.
package notation

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// RemoteOptions says how to reach a registry.
type RemoteOptions struct {
	// Insecure uses plain HTTP. It is allowed only for loopback hosts
	// (localhost, 127.0.0.0/8, ::1).
	Insecure bool
	// DockerConfig is the docker config (a config.json file, or a
	// directory holding one) whose credentials are used; "" means the
	// default ($DOCKER_CONFIG, else ~/.docker/config.json).
	DockerConfig string
}

// parseDigestRef parses host/repo@sha256:... and refuses tags: a tag can
// move, so only digests are signed and verified.
func parseDigestRef(ref string) (registry.Reference, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return registry.Reference{}, fmt.Errorf("invalid reference %q: %w", ref, err)
	}
	if err := r.ValidateReferenceAsDigest(); err != nil {
		return registry.Reference{}, fmt.Errorf("reference %q must name a digest (host/repo@sha256:...): %w", ref, err)
	}
	return r, nil
}

// newRepository returns an oras remote repository for r, with credentials
// from the docker config and plain HTTP only for loopback hosts.
func newRepository(r registry.Reference, ro RemoteOptions) (*remote.Repository, error) {
	if ro.Insecure && !isLoopback(r.Host()) {
		return nil, fmt.Errorf("refusing plain HTTP to %s: insecure registries are allowed only on loopback", r.Registry)
	}
	store, err := credentialStore(ro.DockerConfig)
	if err != nil {
		return nil, err
	}
	client := &auth.Client{
		Client:     retry.DefaultClient,
		Cache:      auth.NewCache(),
		Credential: credentials.Credential(store),
	}
	client.SetUserAgent("lkpkg")
	return &remote.Repository{
		Client:    client,
		Reference: r,
		PlainHTTP: ro.Insecure,
		// On registries without the referrers API, oras keeps the
		// referrers tag index up to date. Replacing it would delete the
		// old index, which registries with deletes disabled refuse
		// after the signature was already stored; keep it instead.
		SkipReferrersGC: true,
	}, nil
}

func credentialStore(dockerConfig string) (credentials.Store, error) {
	opts := credentials.StoreOptions{}
	if dockerConfig == "" {
		s, err := credentials.NewStoreFromDocker(opts)
		if err != nil {
			return nil, fmt.Errorf("loading docker credentials: %w", err)
		}
		return s, nil
	}
	path := dockerConfig
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "config.json")
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("docker config: %w", err)
	}
	s, err := credentials.NewStore(path, opts)
	if err != nil {
		return nil, fmt.Errorf("loading docker credentials from %s: %w", path, err)
	}
	return s, nil
}

func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
