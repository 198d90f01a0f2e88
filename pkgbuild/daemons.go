package pkgbuild

import (
	"context"
	"fmt"
	"sync"

	"github.com/moby/buildkit/client"

	"github.com/lkpkg/lkpkg/pkgbuild/buildkitd"
)

// Daemons hands out BuildKit clients per platform: the --builder mapping
// where it names one, the embedded local buildkitd otherwise. Connections
// are made once and shared by all builds of a run.
type Daemons struct {
	Mapping buildkitd.Mapping
	TLS     buildkitd.TLS
	Local   *buildkitd.Daemon
	// AllowVersionMismatch accepts remote builders whose BuildKit differs
	// from the version pinned in go.mod (their output may differ).
	AllowVersionMismatch bool

	mu       sync.Mutex
	clients  map[string]*client.Client
	releases []func()
}

// Groups splits platforms by the builder that serves them.
func (d *Daemons) Groups(platforms []string) []buildkitd.Group {
	return d.Mapping.Group(platforms)
}

// Name describes a builder address for messages.
func (d *Daemons) Name(addr string) string {
	if addr == "" {
		return "the local buildkitd (" + d.Local.Address() + ")"
	}
	return addr
}

// Client connects to the builder at addr ("" = the local one, started on
// first use).
func (d *Daemons) Client(ctx context.Context, addr string) (*client.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.clients[addr]; ok {
		return c, nil
	}
	dial, tls := addr, d.TLS
	if addr == "" {
		// The lease keeps `builder stop` from killing the daemon under us.
		a, release, err := d.Local.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		d.releases = append(d.releases, release)
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
			if !d.AllowVersionMismatch {
				c.Close()
				return nil, fmt.Errorf("builder %s: %w", addr, err)
			}
			if d.Local != nil && d.Local.Log != nil {
				fmt.Fprintf(d.Local.Log, "warning: builder %s runs BuildKit %s, not %s: its images may not reproduce\n", addr, v, buildkitd.PinnedVersion())
			}
		}
	}
	if d.clients == nil {
		d.clients = map[string]*client.Client{}
	}
	d.clients[addr] = c
	return c, nil
}

// Close closes every connection.
func (d *Daemons) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.clients {
		c.Close()
	}
	for _, r := range d.releases {
		r()
	}
	d.clients, d.releases = nil, nil
}
