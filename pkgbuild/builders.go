package pkgbuild

import (
	"context"
	"sync"

	"github.com/moby/buildkit/client"

	"github.com/lkpkg/lkpkg/builder"
)

// Builders hands out BuildKit clients per platform: the --builder mapping
// where it names one, the embedded local buildkitd otherwise. Connections
// are made once and shared by all builds of a run.
type Builders struct {
	Mapping builder.Mapping
	TLS     builder.TLS
	Local   *builder.Local

	mu      sync.Mutex
	clients map[string]*client.Client
}

// Groups splits platforms by the builder that serves them.
func (b *Builders) Groups(platforms []string) []builder.Group {
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
		a, err := b.Local.Ensure(ctx)
		if err != nil {
			return nil, err
		}
		dial, tls = a, builder.TLS{}
	}
	c, err := builder.Connect(ctx, dial, tls)
	if err != nil {
		return nil, err
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
	b.clients = nil
}
