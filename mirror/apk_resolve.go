package mirror

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/lkpkg/lkpkg/mirror/apk"
	"github.com/lkpkg/lkpkg/mirror/apksign"
)

// maxIndexSize bounds a downloaded APKINDEX.tar.gz (community is ~2 MB).
const maxIndexSize = 256 << 20

// ResolveLock fetches every repository's index for every arch, verifies
// its signature against the trusted keys, resolves the wanted packages as
// apk-tools would and returns the lock.
func ResolveLock(ctx context.Context, c *Config, up *Upstream, keys *apksign.Keyring, progress io.Writer) (*Lock, error) {
	lock := &Lock{Version: LockVersion}
	if err := resolveAPK(ctx, c, up, keys, progress, lock); err != nil {
		return nil, err
	}
	inputs, err := c.InputsDigest(lock)
	if err != nil {
		return nil, err
	}
	lock.Inputs = inputs
	return lock, nil
}

// resolveAPK writes the Alpine part of lock: indexes and packages.
func resolveAPK(ctx context.Context, c *Config, up *Upstream, keys *apksign.Keyring, progress io.Writer, lock *Lock) error {
	lock.Packages = map[string][]LockedPackage{}
	for _, arch := range sortedArches(c) {
		repos, indexes, err := verifiedIndexes(ctx, c, up, keys, progress, arch)
		if err != nil {
			return err
		}
		lock.Indexes = append(lock.Indexes, indexes...)
		selected, err := resolveArch(ctx, c, up, arch, repos, lock)
		if err != nil {
			return fmt.Errorf("resolving %s for %s: %w", c.file, arch, err)
		}
		lock.Packages[arch] = []LockedPackage{} // an arch the rootfs fully covers is still locked
		for _, p := range selected {
			lock.Packages[arch] = append(lock.Packages[arch], LockedPackage{
				Name: p.Name, Version: p.Version, Arch: p.Arch, Repository: repoOf(repos, p),
				Checksum: p.Checksum, Size: p.Size,
			})
		}
	}
	return nil
}

// verifiedIndexes fetches, verifies and parses every repository's index
// for arch, in parallel.
func verifiedIndexes(ctx context.Context, c *Config, up *Upstream, keys *apksign.Keyring, progress io.Writer, arch string) ([]apk.Repository, []LockedIndex, error) {
	repos := make([]apk.Repository, len(c.Repositories))
	indexes := make([]LockedIndex, len(c.Repositories))
	eg, ectx := errgroup.WithContext(ctx)
	for i, r := range c.Repositories {
		eg.Go(func() error {
			rel := r + "/" + arch + "/APKINDEX.tar.gz"
			data, err := up.ReadAll(ectx, rel, maxIndexSize)
			if err != nil {
				return err
			}
			signed, pkgs, err := verifyAndParse(data, keys)
			if err == nil {
				err = checkIndex(r, arch, signed.Description, pkgs)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", up.URL(rel), err)
			}
			keyName := signed.KeyName
			indexes[i] = LockedIndex{Repository: r, Arch: arch, SHA256: sha256Hex(data), SignedBy: keyName}
			repos[i] = apk.Repository{Name: r, Packages: pkgs}
			if progress != nil {
				fmt.Fprintf(progress, "%s: %d packages, signed by %s\n", up.URL(rel), len(pkgs), keyName)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, nil, err
	}
	return repos, indexes, nil
}

// VerifyAndParse checks an APKINDEX.tar.gz's signature against keys and
// parses it; keyName is the key that signed it.
func VerifyAndParse(data []byte, keys *apksign.Keyring) (pkgs []apk.Package, keyName string, err error) {
	signed, pkgs, err := verifyAndParse(data, keys)
	if err != nil {
		return nil, "", err
	}
	return pkgs, signed.KeyName, nil
}

// verifyAndParse is VerifyAndParse with the whole verified index (its
// DESCRIPTION names the release it belongs to).
func verifyAndParse(data []byte, keys *apksign.Keyring) (*apksign.SignedIndex, []apk.Package, error) {
	signed, err := apksign.VerifyIndex(data, keys)
	if err != nil {
		return nil, nil, err
	}
	pkgs, err := apk.ParseIndex(bytes.NewReader(signed.APKINDEX))
	return signed, pkgs, err
}

// repoOf names the repository a selected package came from.
func repoOf(repos []apk.Repository, p apk.Package) string {
	for _, r := range repos {
		for _, q := range r.Packages {
			if q.Name == p.Name && q.Version == p.Version && q.Checksum == p.Checksum {
				return r.Name
			}
		}
	}
	return ""
}

// resolveArch picks what the mirror must hold for arch: the closure of the
// wanted packages, less what the base root filesystem already has and
// `apk add` would keep (it is in the image already). It pins the root
// filesystem in lock.
func resolveArch(ctx context.Context, c *Config, up *Upstream, arch string, repos []apk.Repository, lock *Lock) ([]apk.Package, error) {
	rel := c.Rootfs[arch]
	if rel == "" {
		return apk.Resolve(repos, c.World(arch))
	}
	file, pin, err := downloadRootfs(ctx, up, rel, "")
	if err != nil {
		return nil, err
	}
	defer os.Remove(file)
	if lock.Rootfs == nil {
		lock.Rootfs = map[string]LockedRootfs{}
	}
	lock.Rootfs[arch] = pin
	root, err := ReadRoot(file)
	if err != nil {
		return nil, err
	}
	_, changes, err := apk.ResolveOnRoot(repos, root, c.World(arch))
	if err != nil {
		return nil, err
	}
	out := make([]apk.Package, len(changes))
	for i, ch := range changes {
		out[i] = ch.Package
	}
	return out, nil
}
