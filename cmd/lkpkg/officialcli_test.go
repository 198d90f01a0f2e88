package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// The official cosign and notation CLIs, run by the publishing tests to
// check that they and lkpkg agree.

// tool runs one of the official CLIs (bin/cosign, bin/notation) with a
// home of its own.
type tool struct {
	t    testing.TB
	bin  string
	dir  string // working directory
	home string
	env  []string
}

func newTool(t testing.TB, env, binName string) *tool {
	t.Helper()
	home := t.TempDir()
	return &tool{t: t, bin: testenv.Binary(t, env, binName), dir: home, home: home, env: baseEnv(
		"HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"TUF_ROOT="+filepath.Join(home, ".sigstore"), "DOCKER_CONFIG="+filepath.Join(home, ".docker"),
		"COSIGN_PASSWORD="+cosignPW, "COSIGN_YES=true",
	)}
}

func (c *tool) run(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env, cmd.Dir = c.env, c.dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func (c *tool) ok(args ...string) string {
	c.t.Helper()
	o, e, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("%s %s: %v\n--- stdout:\n%s\n--- stderr:\n%s", filepath.Base(c.bin), strings.Join(args, " "), err, o, e)
	}
	return o
}

var cosignRegistryFlags = []string{"--allow-http-registry=true", "--allow-insecure-registry=true"}

func (c *tool) cosignVerify(pub, ref string) {
	c.t.Helper()
	c.ok(append([]string{"verify", "--key", pub, "--insecure-ignore-tlog=true"}, append(cosignRegistryFlags, ref)...)...)
}

// cosignVerifyAttestation returns the in-toto statements cosign
// verify-attestation printed (the decoded DSSE payloads).
func (c *tool) cosignVerifyAttestation(pub, typ, ref string) []inTotoStatement {
	c.t.Helper()
	out := c.ok(append([]string{"verify-attestation", "--key", pub, "--type", typ, "--insecure-ignore-tlog=true"}, append(cosignRegistryFlags, ref)...)...)
	var sts []inTotoStatement
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var env struct {
			PayloadType string `json:"payloadType"`
			Payload     string `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &env); err != nil {
			c.t.Fatalf("cosign verify-attestation printed a line that is no DSSE envelope: %v\n%.300s", err, line)
		}
		if env.PayloadType != "application/vnd.in-toto+json" {
			c.t.Fatalf("DSSE payload type %q", env.PayloadType)
		}
		p, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			c.t.Fatal(err)
		}
		var st inTotoStatement
		if err := json.Unmarshal(p, &st); err != nil {
			c.t.Fatalf("in-toto statement: %v\n%.300s", err, p)
		}
		sts = append(sts, st)
	}
	if len(sts) == 0 {
		c.t.Fatalf("cosign verify-attestation --type %s %s printed no attestation:\n%s", typ, ref, out)
	}
	return sts
}

type inTotoStatement struct {
	Type          string `json:"_type"`
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	Predicate json.RawMessage `json:"predicate"`
}

// newNotationCLI is the notation CLI with its own configuration, trusting
// keys' CA (if keys is not nil) in store "lkpkg" under keys' trust policy.
func newNotationCLI(t testing.TB, keys *keySet) *tool {
	t.Helper()
	n := newTool(t, "LKPKG_NOTATION", "notation")
	if keys != nil {
		n.ok("cert", "add", "--type", "ca", "--store", "lkpkg", keys.ca)
		n.ok("policy", "import", "--force", keys.policy)
	}
	return n
}

// checkAttestation checks the first attestation of type typ the official
// CLI verified on one per-arch manifest of image img (pushed as ref).
func checkAttestation(t *testing.T, img, ref, typ string, st inTotoStatement) {
	t.Helper()
	switch typ {
	case "spdxjson":
		if st.PredicateType != "https://spdx.dev/Document" {
			t.Errorf("spdx predicate type %q", st.PredicateType)
		}
		var doc struct {
			SPDXVersion string `json:"spdxVersion"`
			Packages    []struct {
				Name        string `json:"name"`
				VersionInfo string `json:"versionInfo"`
			} `json:"packages"`
		}
		if err := json.Unmarshal(st.Predicate, &doc); err != nil {
			t.Fatalf("SPDX predicate: %v", err)
		}
		if !strings.HasPrefix(doc.SPDXVersion, "SPDX-") {
			t.Errorf("SPDX predicate without spdxVersion: %.300s", st.Predicate)
		}
		names := map[string]string{}
		for _, p := range doc.Packages {
			names[p.Name] = p.VersionInfo
		}
		if img == "alpine-sbom" {
			for _, want := range []string{"busybox", "musl", "alpine-baselayout", "apk-tools", "libcrypto3"} {
				if _, ok := names[want]; !ok {
					t.Errorf("SBOM of the Alpine fixture lacks %s (has %d packages: %v)", want, len(names), names)
				}
			}
			if v := names["musl"]; v != "" && !strings.HasPrefix(v, "1.2.4") {
				t.Errorf("musl version %q, want 1.2.4* (Alpine 3.19)", v)
			}
		}
	case "slsaprovenance1":
		if st.PredicateType != "https://slsa.dev/provenance/v1" {
			t.Errorf("provenance predicate type %q", st.PredicateType)
		}
		var prov struct {
			BuildDefinition struct {
				ExternalParameters struct {
					Tag       string   `json:"tag"`
					Platforms []string `json:"platforms"`
				} `json:"externalParameters"`
			} `json:"buildDefinition"`
		}
		if err := json.Unmarshal(st.Predicate, &prov); err != nil {
			t.Fatalf("provenance predicate: %v", err)
		}
		if tag := ref[strings.LastIndex(ref, ":")+1:]; prov.BuildDefinition.ExternalParameters.Tag != tag {
			t.Errorf("provenance tag %q, want %q", prov.BuildDefinition.ExternalParameters.Tag, tag)
		}
	}
}
