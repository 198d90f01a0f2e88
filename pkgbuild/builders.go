package pkgbuild

import (
	"context"
	"fmt"
	"sync"

	"github.com/moby/buildkit/client"

	"github.com/lkpkg/lkpkg/pkgbuild/buildkitd"
)

// Builders hands out BuildKit clients per platform: the --builder mapping
// where it names one, the embedded local buildkitd otherwise. Connections
// are made once and shared by all builds of a run.
type Builders struct {
	Mapping buildkitd.Mapping
	TLS     buildkitd.TLS
	Local   *buildkitd.Local
	// AllowVersionMismatch accepts remote builders whose BuildKit differs
	// from the version pinned in go.mod (their output may differ).
	AllowVersionMismatch bool

	mu       sync.Mutex
	clients  map[string]*client.Client
	releases []func()
}

// Groups splits platforms by the builder that serves them.
func (b *Builders) Groups(platforms []string) []buildkitd.Group {
	return b.Mapping.Group(platforms)
}

// Name describes a builder address for messages.
func (b *Builders) Name(addr string) string {
	if addr == "" {
		return "the local buildkitd (" + b.Local.Address() + ")"
	}
	return addr
}

// Client connects to the builder at addr ("" = the local one, started on
// first use).
func (b *Builders) Client(ctx context.Context, addr string) (*client.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.clients[addr]; ok {
		return c, nil
	}
	dial, tls := addr, b.TLS
	if addr == "" {
		// The lease keeps `builder stop` from killing the daemon under us.
		a, release, err := b.Local.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		b.releases = append(b.releases, release)
		dial, tls = a, buildkitd.TLS{}
	}
	c, err := buildkitd.Connect(ctx, dial, tls)
	if err != nil {
		return nil, err
	}
	if addr != "" {
		// The daemon's Dockerfile frontend shapes the output: another
		// BuildKit version may give other digests for the same tag.
		if v, err := buildkitd.CheckVersion(ctx, c); err != nil {
			if !b.AllowVersionMismatch {
				c.Close()
				return nil, fmt.Errorf("builder %s: %w", addr, err)
			}
			if b.Local != nil && b.Local.Log != nil {
				fmt.Fprintf(b.Local.Log, "warning: builder %s runs BuildKit %s, not %s: its images may not reproduce\n", addr, v, buildkitd.PinnedVersion())
			}
		}
	}
	if b.clients == nil {
		b.clients = map[string]*client.Client{}
	}
	b.clients[addr] = c
	return c, nil
}

// Close closes every connection.
func (b *Builders) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.clients {
		c.Close()
	}
	for _, r := range b.releases {
		r()
	}
	b.clients, b.releases = nil, nil
}
