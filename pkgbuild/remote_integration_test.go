package pkgbuild

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"

	"github.com/lkpkg/lkpkg/internal/testenv"
	"github.com/lkpkg/lkpkg/manifest"
	"github.com/lkpkg/lkpkg/pkgbuild/buildkitd"
)

// writeTLS makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, as a remote buildkitd with mutual TLS needs.
func writeTLS(t *testing.T, dir string) (ca, serverCert, serverKey, clientCert, clientKey string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage, ips []net.IP) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature, IPAddresses: ips, DNSNames: []string{name}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		certPath, keyPath := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
		os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
		return certPath, keyPath
	}
	ca = filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	serverCert, serverKey = issue("buildkitd", 2, x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	clientCert, clientKey = issue("client", 3, x509.ExtKeyUsageClientAuth, nil)
	return
}

// remoteBuildkitd starts a buildkitd listening on TCP with mutual TLS, as
// a native builder on another machine would.
func remoteBuildkitd(t *testing.T) (addr string, tls buildkitd.TLS) {
	t.Helper()
	dir, err := os.MkdirTemp("", "lkr")
	if err != nil {
		t.Fatal(err)
	}
	ca, sc, sk, cc, ck := writeTLS(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = "tcp://" + ln.Addr().String()
	ln.Close()
	logf, _ := os.Create(filepath.Join(dir, "log"))
	cmd := exec.Command(testenv.BuildkitdBinary(t), "--root", filepath.Join(dir, "root"), "--addr", addr,
		"--tlscacert", ca, "--tlscert", sc, "--tlskey", sk,
		"--oci-worker=true", "--containerd-worker=false", "--otel-socket-path", filepath.Join(dir, "otel.sock"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		os.RemoveAll(dir)
	})
	tls = buildkitd.TLS{CACert: ca, Cert: cc, Key: ck, ServerName: "buildkitd"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := buildkitd.Connect(context.Background(), addr, tls)
		if err == nil {
			c.Close()
			return addr, tls
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("remote buildkitd did not answer: %v\n%s", err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestBuilderMappingSendsPlatformsToTheirBuilders(t *testing.T) {
	testenv.Integration(t)
	addr, tls := remoteBuildkitd(t)
	m, err := buildkitd.ParseMapping("linux/arm64=" + addr)
	if err != nil {
		t.Fatal(err)
	}
	bs := &Daemons{Mapping: m, TLS: tls, Local: testenv.Buildkitd(t)}
	t.Cleanup(bs.Close)
	e := newBuildEnv(t, bs)
	pkg := alpinePackage(t, t.TempDir(), "mapped", []string{"amd64", "arm64"}, "uname -m > /arch", "")
	p := e.load(t, pkg)[0]
	if _, err := e.b.Build(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	idx, err := e.cache.ImageIndex(p.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := manifest.Platforms(idx); strings.Join(got, ",") != "linux/amd64,linux/arm64" {
		t.Fatalf("platforms %v", got)
	}
	// Each builder's history shows only the platform mapped to it.
	for name, want := range map[string]string{addr: "linux/arm64", "": "linux/amd64"} {
		c, err := bs.Client(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		plats := builtPlatforms(t, c)
		if len(plats) != 1 || plats[0] != want {
			t.Errorf("builder %q built for %v, want only %s", name, plats, want)
		}
	}

	// Without the client certificate the remote builder refuses us.
	if _, err := buildkitd.Connect(context.Background(), addr, buildkitd.TLS{CACert: tls.CACert, ServerName: tls.ServerName}); err == nil {
		t.Error("remote builder accepted a client without a certificate")
	}
}

// builtPlatforms lists the target platforms of the builds a buildkitd has
// finished, from its build history.
func builtPlatforms(t *testing.T, c *client.Client) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []string
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{EarlyExit: true})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			break
		}
		if ev.Record != nil {
			out = append(out, ev.Record.FrontendAttrs["platform"])
		}
	}
	return out
}
