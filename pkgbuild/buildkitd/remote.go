package buildkitd

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/buildkit/client"

	// Register the same connection helpers buildctl has, so --builder accepts
	// docker-container://, kube-pod://, podman-container://, ssh:// etc.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/nerdctlcontainer"
	_ "github.com/moby/buildkit/client/connhelper/podmancontainer"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)

// TLS options for remote builders, mirroring buildctl's --tlscacert,
// --tlscert, --tlskey and --tlsservername.
type TLS struct {
	CACert, Cert, Key, ServerName string
}

func (t TLS) opts() []client.ClientOpt {
	var o []client.ClientOpt
	if t.CACert != "" || t.ServerName != "" {
		o = append(o, client.WithServerConfig(t.ServerName, t.CACert))
	}
	if t.Cert != "" || t.Key != "" {
		o = append(o, client.WithCredentials(t.Cert, t.Key))
	}
	return o
}

const connectTimeout = 10 * time.Second

// Connect dials a buildkitd address and checks that it answers, because
// gRPC dials lazily and would otherwise only fail deep inside a build.
func Connect(ctx context.Context, addr string, tls TLS) (*client.Client, error) {
	return dial(ctx, addr, tls, connectTimeout)
}

func dial(ctx context.Context, addr string, tls TLS, timeout time.Duration) (*client.Client, error) {
	c, err := client.New(ctx, addr, tls.opts()...)
	if err != nil {
		return nil, fmt.Errorf("builder %s: %w (is buildkitd running there?)", addr, err)
	}
	if err := ping(ctx, c, timeout); err != nil {
		c.Close()
		return nil, fmt.Errorf("builder %s does not answer: %w (is buildkitd running there?)", addr, err)
	}
	return c, nil
}

func ping(ctx context.Context, c *client.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := c.ListWorkers(ctx)
	return err
}
