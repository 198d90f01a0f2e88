package apksign

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const minirootfs = "minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz"

// chrootApk is an Alpine minirootfs with the real apk-tools 2.14 binary,
// used to prove that real apk accepts what WriteIndex signs.
type chrootApk struct {
	t    *testing.T
	root string
}

func newChrootApk(t *testing.T) *chrootApk {
	if testing.Short() {
		t.Skip("needs root, chroot and the Alpine minirootfs; skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Fatal("real apk-tools test needs root for chroot (run with -short to skip)")
	}
	tarball := alpinePath(t, minirootfs)
	root := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", tarball, "-C", root).CombinedOutput(); err != nil {
		t.Fatalf("extract minirootfs: %v\n%s", err, out)
	}
	c := &chrootApk{t: t, root: root}
	// An empty repositories file keeps apk off the network and away from
	// the image's dl-cdn repositories; /dev is empty in the image.
	c.write("tmp/no-repositories", nil)
	return c
}

func (c *chrootApk) write(rel string, data []byte) {
	c.t.Helper()
	p := filepath.Join(c.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// apk runs apk inside the chroot with only repo (a path in the chroot).
func (c *chrootApk) apk(repo string, args ...string) (string, error) {
	c.t.Helper()
	argv := append([]string{c.root, "/sbin/apk", "--repositories-file", "/tmp/no-repositories",
		"-X", repo, "--no-network", "--no-cache", "--no-progress"}, args...)
	out, err := exec.Command("chroot", argv...).CombinedOutput()
	c.t.Logf("apk %s %s:\n%s", repo, strings.Join(args, " "), out)
	return string(out), err
}

// makeRepo writes a repository at rel holding real packages and an index
// made of their real entries, signed by s.
func (c *chrootApk) makeRepo(rel string, s *Signer, pkgs ...string) []byte {
	c.t.Helper()
	var files []string
	for _, p := range pkgs {
		files = append(files, p)
		c.write(filepath.Join(rel, "x86_64", p+".apk"), readAlpine(c.t, "v3.19/main/x86_64/"+p+".apk"))
	}
	var idx bytes.Buffer
	if err := s.WriteIndex(&idx, realEntries(c.t, files...), "lkpkg test repository"); err != nil {
		c.t.Fatal(err)
	}
	c.write(filepath.Join(rel, "x86_64", "APKINDEX.tar.gz"), idx.Bytes())
	return idx.Bytes()
}

func TestRealApkAcceptsSignedIndex(t *testing.T) {
	c := newChrootApk(t)
	s, pub := testSigner()
	c.write("etc/apk/keys/"+s.KeyName, pub)
	pkgs := []string{"musl-1.2.4_git20230717-r4", "zlib-1.3.1-r0"}

	for _, alg := range []string{"RSA256", "RSA"} {
		t.Run(alg, func(t *testing.T) {
			c.t = t
			signer := *s
			signer.Algorithm = alg
			repo := "/repo-" + strings.ToLower(alg)
			c.makeRepo(repo, &signer, pkgs...)

			out, err := c.apk(repo, "update")
			if err != nil || strings.Contains(out, "WARNING") || !strings.Contains(out, "lkpkg test repository ["+repo+"]") {
				t.Fatalf("real apk refused our %s index: %v", alg, err)
			}
			target := "/tmp/target-" + strings.ToLower(alg)
			if _, err := c.apk(repo, "add", "--root", target, "--initdb", "--keys-dir", "/etc/apk/keys", "zlib"); err != nil {
				t.Fatalf("real apk add from our %s repository: %v", alg, err)
			}
			if _, err := os.Stat(filepath.Join(c.root, target, "lib/libz.so.1")); err != nil {
				t.Fatalf("zlib not installed: %v", err)
			}
		})
	}
}

func TestRealApkRefusesTamperedIndex(t *testing.T) {
	c := newChrootApk(t)
	s, pub := testSigner()
	c.write("etc/apk/keys/"+s.KeyName, pub)
	pkgs := []string{"musl-1.2.4_git20230717-r4", "zlib-1.3.1-r0"}

	good := c.makeRepo("/repo", s, pkgs...)
	sigEnd := memberBounds(t, good)[0]
	tampered := flipByte(good, sigEnd+(len(good)-sigEnd)/2)
	if _, err := VerifyIndex(tampered, mustKeyring(t, s.KeyName, pub)); err == nil {
		t.Fatal("our own verifier accepts the tampered index")
	}
	c.write("repo/x86_64/APKINDEX.tar.gz", tampered)
	checkRefused(t, c, "/repo", "/tmp/target-tampered", "IO ERROR")

	// Well-formed gzip, wrong content: our signature member in front of
	// another index's (validly compressed) content member.
	var other bytes.Buffer
	if err := s.WriteIndex(&other, realEntries(t, pkgs[0]), "lkpkg test repository"); err != nil {
		t.Fatal(err)
	}
	swapped := append(bytes.Clone(good[:sigEnd]), other.Bytes()[memberBounds(t, other.Bytes())[0]:]...)
	if _, err := VerifyIndex(swapped, mustKeyring(t, s.KeyName, pub)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("our own verifier on the swapped index: %v", err)
	}
	c.write("repo-swapped/x86_64/APKINDEX.tar.gz", swapped)
	checkRefused(t, c, "/repo-swapped", "/tmp/target-swapped", "BAD signature")

	// Control: an untampered index from a key apk does not trust.
	stranger, _, _, err := GenerateKey("lkpkg-untrusted", 2048)
	if err != nil {
		t.Fatal(err)
	}
	c.makeRepo("/repo-untrusted", stranger, pkgs...)
	checkRefused(t, c, "/repo-untrusted", "/tmp/target-untrusted", "UNTRUSTED signature")
}

// checkRefused asserts that real apk rejects the index at repo with the
// warning why and will not install from it.
func checkRefused(t *testing.T, c *chrootApk, repo, target, why string) {
	t.Helper()
	// apk update exits 0 after skipping a bad repository, so read its words.
	out, _ := c.apk(repo, "update")
	if want := "WARNING: opening " + repo + ": " + why; !strings.Contains(out, want) {
		t.Fatalf("real apk update did not say %q for %s", want, repo)
	}
	if _, err := c.apk(repo, "add", "--root", target, "--initdb", "--keys-dir", "/etc/apk/keys", "zlib"); err == nil {
		t.Fatalf("real apk add installed from a bad index at %s", repo)
	}
	if _, err := os.Stat(filepath.Join(c.root, target, "lib/libz.so.1")); err == nil {
		t.Fatal("zlib installed from a bad index")
	}
}

func mustKeyring(t testing.TB, name string, pub []byte) *Keyring {
	t.Helper()
	k := NewKeyring()
	if err := k.Add(name, pub); err != nil {
		t.Fatal(err)
	}
	return k
}
