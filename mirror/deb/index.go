package deb

import "sort"

// Index is a set of packages from one or more Packages indexes (several
// components, suites or architectures), ready for Resolve.
type Index struct {
	all    []*Package
	byName map[string][]*Package // highest version first
	// provides maps a virtual name to the packages providing it.
	provides map[string][]provider
}

// provider is one "Provides: name [(= version)]" entry.
type provider struct {
	pkg     *Package
	version string // "" for an unversioned provide
}

// NewIndex indexes the packages of each list. Identical (name, version,
// architecture) stanzas, such as an Architecture: all package listed in
// both the amd64 and the arm64 index, are kept once: the first seen, so
// list order sets which repository a duplicate is attributed to.
func NewIndex(pkgs ...[]*Package) *Index {
	n := 0
	for _, l := range pkgs {
		n += len(l)
	}
	ix := &Index{
		all:      make([]*Package, 0, n),
		byName:   make(map[string][]*Package, n),
		provides: make(map[string][]provider),
	}
	for _, l := range pkgs {
		for _, p := range l {
			// Scanning the name's few versions is cheaper than a
			// second map keyed by (name, version, architecture).
			same := ix.byName[p.Name]
			if find(same, p.Version, p.Architecture) != nil {
				continue
			}
			ix.all = append(ix.all, p)
			if len(same) == 0 {
				// Most names have one package: point into all (which
				// never grows past its initial capacity) instead of
				// allocating ~64k one-element slices. The cap of 1 makes
				// a second version copy out before sorting.
				k := len(ix.all)
				ix.byName[p.Name] = ix.all[k-1 : k : k]
			} else {
				ix.byName[p.Name] = append(same, p)
			}
			for _, r := range p.Provides {
				for _, d := range r {
					ix.provides[d.Name] = append(ix.provides[d.Name], provider{p, d.Version})
				}
			}
		}
	}
	for _, l := range ix.byName {
		if len(l) > 1 {
			// Stable: among equal versions (other architectures) the
			// first listed stays first.
			sort.SliceStable(l, func(i, j int) bool { return CompareVersions(l[i].Version, l[j].Version) > 0 })
		}
	}
	return ix
}

// Len returns the number of distinct packages.
func (ix *Index) Len() int { return len(ix.all) }

// Lookup returns the package with exactly this name, version and
// architecture, or nil.
func (ix *Index) Lookup(name, version, arch string) *Package {
	return find(ix.byName[name], version, arch)
}

func find(pkgs []*Package, version, arch string) *Package {
	for _, p := range pkgs {
		if p.Version == version && p.Architecture == arch {
			return p
		}
	}
	return nil
}

// Versions returns the packages called name, all architectures, highest
// version first. The slice must not be modified.
func (ix *Index) Versions(name string) []*Package { return ix.byName[name] }
