package mirror

import (
	"fmt"
	"sort"

	"github.com/lkpkg/lkpkg/internal/strictyaml"
	"github.com/lkpkg/lkpkg/mirror/apk"
)

// rollbackHint ends every refusal of a lock update to older upstream
// content, Alpine's and Debian's alike.
const rollbackHint = "refusing a rollback (pass --allow-older-release if this is intended)"

// previousAPKPackages is what the current lock (if there is one that
// reads) pins per apk arch and package name.
func previousAPKPackages(file string) map[string]map[string]LockedPackage {
	out := map[string]map[string]LockedPackage{}
	data, err := strictyaml.ReadFile(file)
	if err != nil {
		return out
	}
	var l Lock
	if strictyaml.Decode(file, data, &l, lockYAML) != nil {
		return out
	}
	for arch, pkgs := range l.Packages {
		out[arch] = map[string]LockedPackage{}
		for _, p := range pkgs {
			out[arch][p.Name] = p
		}
	}
	return out
}

// checkAPKRollback refuses a new lock that pins any package at an older
// version than the current lock does: an older index of the same release
// (validly signed, replayed by someone on the path) would otherwise
// silently bring back packages that later updates fixed.
func checkAPKRollback(c *Config, l *Lock, opts Options) error {
	if opts.AllowOlderRelease {
		return nil
	}
	previous := previousAPKPackages(c.LockFile())
	type older struct{ was, now LockedPackage }
	var found []older
	for arch, pkgs := range l.Packages {
		for _, p := range pkgs {
			if was, ok := previous[arch][p.Name]; ok && apk.CompareVersions(p.Version, was.Version) < 0 {
				found = append(found, older{was, p})
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].now.Arch != found[j].now.Arch {
			return found[i].now.Arch < found[j].now.Arch
		}
		return found[i].now.Name < found[j].now.Name
	})
	f := found[0]
	return fmt.Errorf("%s: %s: %d packages would move to an older version than %s pins, e.g. %s from %s to %s (%s): the upstream index is older than the one the lock was made from: %s",
		c.file, f.now.Arch, len(found), c.LockFile(), f.now.Name, f.was.Version, f.now.Version, f.now.Repository, rollbackHint)
}
