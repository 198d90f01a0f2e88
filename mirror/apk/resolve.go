package apk

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Repository is one APKINDEX. Order matters only for ties: apk prefers the
// best version regardless of repository, then the earliest repository.
type Repository struct {
	Name     string
	Packages []Package
}

// Resolve returns the packages `apk add WORLD...` installs on an empty root
// with these repositories, sorted by name. World entries are dependency
// atoms ("busybox", "so:libz.so.1", "foo>=1.2", "!bar"). Errors list every
// problem found, naming the dependency and who wanted it.
func Resolve(repos []Repository, world []string) ([]Package, error) {
	d := newDB(repos)
	deps := make([]dep, 0, len(world))
	for _, w := range world {
		pd, err := ParseDependency(w)
		if err != nil {
			return nil, fmt.Errorf("world: %w", err)
		}
		deps = append(deps, d.newDep(pd, false))
	}
	// apk sorts the world by name before solving.
	sort.SliceStable(deps, func(i, j int) bool { return deps[i].name.name < deps[j].name.name })

	ss := &solver{db: d}
	ss.solve(deps)
	if d.err != nil {
		return nil, fmt.Errorf("apk: bad index entry: %w", d.err)
	}
	if ss.errors > 0 {
		if len(ss.problems) == 0 {
			ss.problems = append(ss.problems, "unsatisfiable constraints")
		}
		return nil, errors.New("apk: unable to select packages:\n  " + strings.Join(ss.problems, "\n  "))
	}
	out := make([]Package, 0, len(ss.changes))
	for _, p := range ss.changes {
		out = append(out, *p.pkg)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return CompareVersions(out[i].Version, out[j].Version) < 0
	})
	return out, nil
}
