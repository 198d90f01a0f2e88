package apk

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Repository is one APKINDEX. Order matters only for ties: apk prefers the
// best version regardless of repository, then the earliest repository.
type Repository struct {
	Name     string
	Packages []Package
}

// Root is what an existing root filesystem has: its installed packages
// (lib/apk/db/installed, parsed with ParseIndex: the same record format
// plus file lines F:, R:, a:, M:, Z:... which ParseIndex ignores) and its
// world (the atoms of /etc/apk/world).
type Root struct {
	Installed []Package
	World     []string
}

// Change is one package `apk add` would install, upgrade, downgrade or
// replace: Package comes from a repository and Old is the version of the
// installed package of the same name it replaces ("" for a new install).
type Change struct {
	Package Package
	Old     string
}

// ReadRoot reads a root's installed database (lib/apk/db/installed) and
// world file (etc/apk/world, whitespace-separated atoms). Either reader may
// be nil for an empty database or world.
func ReadRoot(installedDB, world io.Reader) (Root, error) {
	var root Root
	if installedDB != nil {
		pkgs, err := ParseIndex(installedDB)
		if err != nil {
			return Root{}, fmt.Errorf("installed database: %w", err)
		}
		root.Installed = pkgs
	}
	if world != nil {
		data, err := io.ReadAll(world)
		if err != nil {
			return Root{}, fmt.Errorf("world: %w", err)
		}
		root.World = strings.Fields(string(data))
	}
	return root, nil
}

// Resolve returns the packages `apk add WORLD...` installs on an empty root
// with these repositories, sorted by name. World entries are dependency
// atoms ("busybox", "so:libz.so.1", "foo>=1.2", "!bar"). Errors list every
// problem found, naming the dependency and who wanted it.
func Resolve(repos []Repository, world []string) ([]Package, error) {
	selected, _, err := ResolveOnRoot(repos, Root{}, world)
	return selected, err
}

// ResolveOnRoot models `apk add ADD...` (no --upgrade, no --latest) run in
// an existing root: the solver's world is the root's world with the added
// atoms (an atom replaces a world entry of the same name, as apk add
// does), installed packages are preferred over repository ones whenever
// they satisfy the constraints (even when a repository has a higher
// version, or when no repository has them at all), and only what is
// missing is installed.
//
// selected is the root's package set afterwards (installed packages kept
// plus the new ones), sorted by name. changes lists, sorted by name, the
// packages that must come from a repository: installs, upgrades,
// downgrades and replacements of an installed package of the same name.
// Installed packages apk would remove (Purging) are absent from selected
// and not listed in changes.
func ResolveOnRoot(repos []Repository, root Root, add []string) (selected []Package, changes []Change, err error) {
	d := newDB(repos, root.Installed)
	var deps []dep
	addAtom := func(what, a string) error {
		pd, err := ParseDependency(a)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if strings.Contains(pd.Name, "@") {
			return fmt.Errorf("%s: %q: repository pinning tags are not supported", what, a)
		}
		nd := d.newDep(pd, false)
		// apk_deps_add: a new atom for a name already in the world
		// replaces it.
		for i := range deps {
			if deps[i].name == nd.name {
				deps[i] = nd
				return nil
			}
		}
		deps = append(deps, nd)
		return nil
	}
	for _, w := range root.World {
		if err := addAtom("root world", w); err != nil {
			return nil, nil, err
		}
	}
	for _, w := range add {
		if err := addAtom("world", w); err != nil {
			return nil, nil, err
		}
	}
	// apk sorts the world by name before solving.
	sort.SliceStable(deps, func(i, j int) bool { return deps[i].name.name < deps[j].name.name })

	ss := &solver{db: d}
	ss.solve(deps)
	if d.err != nil {
		return nil, nil, fmt.Errorf("apk: bad index entry: %w", d.err)
	}
	if ss.errors > 0 {
		if len(ss.problems) == 0 {
			ss.problems = append(ss.problems, "unsatisfiable constraints")
		}
		return nil, nil, errors.New("apk: unable to select packages:\n  " + strings.Join(ss.problems, "\n  "))
	}
	selected = make([]Package, 0, len(ss.changes))
	for _, c := range ss.changes {
		if c.new == nil {
			continue
		}
		selected = append(selected, *c.new.pkg)
		if c.new == c.old {
			continue
		}
		ch := Change{Package: *c.new.pkg}
		if c.old != nil {
			ch.Old = c.old.pkg.Version
		}
		changes = append(changes, ch)
	}
	sort.Slice(selected, func(i, j int) bool { return pkgLess(&selected[i], &selected[j]) })
	sort.Slice(changes, func(i, j int) bool { return pkgLess(&changes[i].Package, &changes[j].Package) })
	return selected, changes, nil
}

func pkgLess(a, b *Package) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return CompareVersions(a.Version, b.Version) < 0
}
