package mirror

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/mirror/download"
)

func TestLockMatchesRealApkAndIsStable(t *testing.T) {
	world := []string{"busybox", "dhcpcd", "ca-certificates", "musl-dev", "make", "binutils", "linux-headers"}
	f := newFixture(t, world, false)
	c := f.config(t)
	lock, err := LockAndWrite(context.Background(), c, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range lock.Packages["x86_64"] {
		got = append(got, p.Name+"-"+p.Version)
	}
	want := expectation(t, "apk/testdata/resolve_issue.txt")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lock differs from real apk-tools:\n got %v\nwant %v", got, want)
	}
	first, _ := os.ReadFile(c.LockFile())
	// Same inputs from another copy of the upstream (file:// instead of
	// HTTP): byte-identical lock.
	f.opts.APKUpstream = "file://" + f.alpine
	if _, err := LockAndWrite(context.Background(), c, f.opts); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(c.LockFile())
	if string(first) != string(second) {
		t.Fatal("locking twice gave different mirror.lock files")
	}
	if _, err := ReadLock(c.LockFile(), c); err != nil {
		t.Fatal(err)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("index with one byte changed", func(t *testing.T) {
		f := newFixture(t, []string{"zlib"}, false)
		bad := copyTree(t, filepath.Join(f.alpine, "v3.19"), filepath.Join(t.TempDir(), "v3.19"))
		idx := filepath.Join(bad, "main", "x86_64", "APKINDEX.tar.gz")
		b, _ := os.ReadFile(idx)
		b[len(b)/2] ^= 0x01
		os.WriteFile(idx, b, 0o644)
		f.opts.APKUpstream = serve(t, filepath.Dir(bad))
		_, err := LockAndWrite(ctx, f.config(t), f.opts)
		wantErr(t, err, "v3.19/main/x86_64/APKINDEX.tar.gz")
		if _, statErr := os.Stat(f.config(t).LockFile()); statErr == nil {
			t.Error("a lock was written from a bad index")
		}
	})
	t.Run("index signed by a key not trusted", func(t *testing.T) {
		f := newFixture(t, []string{"zlib"}, false)
		os.Remove(filepath.Join(f.dir, "keys", "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"))
		_, err := LockAndWrite(ctx, f.config(t), f.opts)
		wantErr(t, err, "6165ee59")
		wantErr(t, err, "not trusted")
	})
	t.Run("apk altered", func(t *testing.T) {
		f := newFixture(t, []string{"zlib"}, false)
		c, _ := f.lock(t)
		bad := copyTree(t, filepath.Join(f.alpine, "v3.19"), filepath.Join(t.TempDir(), "v3.19"))
		apk := filepath.Join(bad, "main", "x86_64", "zlib-1.3.1-r0.apk")
		b, _ := os.ReadFile(apk)
		b[len(b)-100] ^= 0x01
		os.WriteFile(apk, b, 0o644)
		f.opts.APKUpstream = serve(t, filepath.Dir(bad))
		_, _, _, err := Fetch(ctx, c, f.opts)
		wantErr(t, err, "zlib-1.3.1-r0")
		if entries, _ := filepath.Glob(filepath.Join(f.opts.APKDownloadDir, "*.apk")); len(entries) > 1 {
			t.Errorf("bad package kept in the download cache: %v", entries)
		}
	})
	t.Run("apk swapped for another, larger one", func(t *testing.T) {
		f := newFixture(t, []string{"ca-certificates"}, false)
		c, lock := f.lock(t)
		bad := filepath.Join(t.TempDir(), "v3.19", "main", "x86_64")
		os.MkdirAll(bad, 0o755)
		dhcpcd, _ := os.ReadFile(filepath.Join(f.alpine, "v3.19", "main", "x86_64", "dhcpcd-10.0.5-r0.apk"))
		os.WriteFile(filepath.Join(bad, "ca-certificates-20240226-r0.apk"), dhcpcd, 0o644)
		fetcher := &Fetcher{Upstream: mustUpstream(t, c, serve(t, filepath.Dir(filepath.Dir(filepath.Dir(bad))))), Keys: mustKeys(t, c), Dir: f.opts.APKDownloadDir}
		only := &Lock{Packages: map[string][]LockedPackage{"x86_64": {lockedPackage(t, lock, "ca-certificates")}}}
		_, _, err := fetcher.Fetch(ctx, only, []string{"x86_64"})
		wantErr(t, err, "ca-certificates-20240226-r0")
		wantErr(t, err, "expected 161342 bytes, got 166041") // the served file's size
	})
	t.Run("package missing upstream", func(t *testing.T) {
		f := newFixture(t, []string{"busybox"}, false) // in the index, not in the data
		c, _ := f.lock(t)
		_, _, _, err := Fetch(ctx, c, f.opts)
		wantErr(t, err, "busybox-1.36.1-r19")
		wantErr(t, err, "missing upstream")
	})
	t.Run("lock no longer matches mirror.yml", func(t *testing.T) {
		f := newFixture(t, []string{"zlib"}, false)
		c, _ := f.lock(t)
		yml, _ := os.ReadFile(c.File())
		os.WriteFile(c.File(), []byte(strings.Replace(string(yml), "packages: [zlib]", "packages: [zlib, make]", 1)), 0o644)
		_, _, _, err := Fetch(ctx, f.config(t), f.opts)
		wantErr(t, err, "no longer matches")
	})
}

func TestBuildIsReproducible(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, []string{"zlib", "dhcpcd"}, true)
	c := f.config(t)
	if _, err := LockAndWrite(ctx, c, f.opts); err != nil {
		t.Fatal(err)
	}
	var digests []v1.Hash
	for i := 0; i < 2; i++ {
		// A clean download cache and a clean image cache each time.
		o := f.opts
		o.APKDownloadDir = filepath.Join(t.TempDir(), "downloads")
		store, err := cache.Open(filepath.Join(t.TempDir(), "cache"))
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			c.Org = "registry.example.com/other" // where it is stored must not change what it is
		}
		ref, desc, err := Build(ctx, c, o, store)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ref, c.Org+"/alpine:") {
			t.Fatalf("ref %s", ref)
		}
		digests = append(digests, desc.Digest)
	}
	if digests[0] != digests[1] {
		t.Fatalf("two clean mirror builds: %s and %s", digests[0], digests[1])
	}
}

func wantErr(t *testing.T, err error, sub string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error mentioning %q, got none", sub)
	}
	if !strings.Contains(err.Error(), sub) {
		t.Fatalf("error %q does not mention %q", err, sub)
	}
}

// copyTree copies a directory of regular files.
func copyTree(t *testing.T, src, dst string) string {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// An interrupted download resumes from its .part file: only the missing
// bytes cross the network, and the result is verified like any other.
func TestFetchResumes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, []string{"zlib"}, false)
	c, lock := f.lock(t)
	zlib := lockedPackage(t, lock, "zlib")
	full, err := os.ReadFile(filepath.Join(f.alpine, "v3.19", "main", "x86_64", zlib.Filename()))
	if err != nil {
		t.Fatal(err)
	}
	name, _ := zlib.cacheName()
	os.MkdirAll(f.opts.APKDownloadDir, 0o755)
	half := int64(len(full) / 2)
	os.WriteFile(filepath.Join(f.opts.APKDownloadDir, name+".part"), full[:half], 0o644)

	fetcher := &Fetcher{Upstream: mustUpstream(t, c, f.opts.APKUpstream), Keys: mustKeys(t, c), Dir: f.opts.APKDownloadDir}
	only := &Lock{Packages: map[string][]LockedPackage{"x86_64": {zlib}}}
	_, st, err := fetcher.Fetch(ctx, only, []string{"x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != int64(len(full))-half {
		t.Fatalf("transferred %d bytes, want only the missing %d", st.Bytes, int64(len(full))-half)
	}
	got, _ := os.ReadFile(filepath.Join(f.opts.APKDownloadDir, name))
	if string(got) != string(full) {
		t.Fatal("resumed file differs from the upstream's")
	}
	// A second fetch transfers nothing: the cache is content-addressed.
	_, st, err = fetcher.Fetch(ctx, only, []string{"x86_64"})
	if err != nil || st.Bytes != 0 || st.Downloaded != 0 {
		t.Fatalf("second fetch: %+v %v", st, err)
	}
}

// The base root filesystem is pinned in the lock, fetched into the
// download cache and verified on every use; the tag hashes the lock
// without its rootfs: block.
func TestRootfsIsPinnedAndVerified(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, []string{"zlib"}, true)
	c, _ := f.lock(t)
	const sum = "a2a87004e87720cbb0372c08b7de9b80748afdfd7fd72d2eab2ec0b074b92211"
	lock, err := ReadLock(c.LockFile(), c)
	if err != nil {
		t.Fatal(err)
	}
	if pin := lock.Rootfs["x86_64"]; pin.SHA256 != sum || pin.URL != c.Rootfs["x86_64"] || pin.Size <= 0 {
		t.Fatalf("rootfs pin %+v", pin)
	}
	_, contents, _, err := Fetch(ctx, c, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	cached := contents.APKRootfs["x86_64"]
	if got, _ := fileSHA256(cached); got != sum {
		t.Fatalf("cached rootfs %s has sha256 %s", cached, got)
	}
	t.Run("a corrupt cached copy is fetched again", func(t *testing.T) {
		if err := os.WriteFile(cached, []byte("not a tarball"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := Fetch(ctx, c, f.opts); err != nil {
			t.Fatal(err)
		}
		if got, _ := fileSHA256(cached); got != sum {
			t.Fatalf("cached rootfs not restored: sha256 %s", got)
		}
	})
	t.Run("other bytes upstream are refused", func(t *testing.T) {
		os.Remove(cached)
		bad := t.TempDir()
		rel := filepath.FromSlash(c.Rootfs["x86_64"])
		os.MkdirAll(filepath.Dir(filepath.Join(bad, rel)), 0o755)
		os.WriteFile(filepath.Join(bad, rel), []byte("other bytes"), 0o644)
		o := f.opts
		o.APKUpstream = "file://" + bad
		if _, err := fetchRootfs(ctx, mustUpstream(t, c, o.APKUpstream), o.APKDownloadDir, lock.Rootfs["x86_64"]); !errors.Is(err, download.ErrMismatch) || !strings.Contains(err.Error(), c.Rootfs["x86_64"]) {
			t.Fatalf("err = %v, want a refusal", err)
		}
	})
	t.Run("the tag hashes the lock without the rootfs block", func(t *testing.T) {
		with, err := lock.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		bare := *lock
		bare.Rootfs = nil
		without, err := bare.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if string(withoutRootfs(with)) != string(without) {
			t.Fatalf("withoutRootfs:\n%s\nwant:\n%s", withoutRootfs(with), without)
		}
	})
}

// lockedPackage is the x86_64 package name that lock pins.
func lockedPackage(t *testing.T, lock *Lock, name string) LockedPackage {
	t.Helper()
	for _, p := range lock.Packages["x86_64"] {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("%s is not locked", name)
	return LockedPackage{}
}
