package testenv

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Binary returns a tool built by `make` into bin/: $env if set, else
// bin/name in the repository. A missing tool fails the test.
func Binary(t testing.TB, env, name string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join(RepoRoot(), "bin", name)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s not built (run `make`): %v", name, err)
	}
	return p
}

// Registry starts a CNCF distribution registry (bin/registry) on
// 127.0.0.1 with storage in a temp dir (deletes enabled), and stops it
// after the test. It returns host:port (plain HTTP).
func Registry(t testing.TB) string {
	t.Helper()
	return startRegistry(t, "  delete:\n    enabled: true\n", "", http.StatusOK)
}

// AuthRegistry is Registry with htpasswd authentication: only user with
// password pass may pull and push.
func AuthRegistry(t testing.TB, user, pass string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return startRegistry(t, "", fmt.Sprintf("auth:\n  htpasswd:\n    realm: lkpkg-test\n    path: %s\n", htpasswd), http.StatusUnauthorized)
}

// startRegistry runs bin/registry with storageCfg added to the storage
// section of its configuration and extraCfg (top-level sections) after
// it, and waits until /v2/ answers ready (200, or 401 when
// authentication is on).
func startRegistry(t testing.TB, storageCfg, extraCfg string, ready int) string {
	t.Helper()
	bin := Binary(t, "LKPKG_REGISTRY", "registry")
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	storage := fmt.Sprintf("storage:\n  filesystem:\n    rootdirectory: %s\n", filepath.Join(dir, "data")) + storageCfg
	cfg := "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n" + storage + extraCfg + "http:\n  addr: " + addr + "\n"
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == ready {
				return addr
			}
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("registry exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry on %s did not answer: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
