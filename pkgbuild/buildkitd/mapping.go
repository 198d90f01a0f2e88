package buildkitd

import (
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/platforms"
)

// Mapping routes platforms to buildkitd addresses. An empty address means
// the local embedded builder.
type Mapping struct {
	Default    string
	ByPlatform map[string]string
}

// Group is a set of platforms built on the same builder.
type Group struct {
	Address   string
	Platforms []string
}

// ParseMapping parses the --builder flag value: either a single address used
// for all platforms, or a comma-separated list of PLATFORM=ADDR entries. A
// bare address inside a list acts as the default for unlisted platforms.
func ParseMapping(s string) (Mapping, error) {
	m := Mapping{ByPlatform: map[string]string{}}
	s = strings.TrimSpace(s)
	if s == "" {
		return m, nil
	}
	hasDefault := false
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		plat, addr, isPair := splitEntry(entry)
		if !isPair {
			if entry == "" {
				return Mapping{}, fmt.Errorf("builder %q: empty entry", s)
			}
			if hasDefault {
				return Mapping{}, fmt.Errorf("builder entry %q: a default address is already set (%s)", entry, m.Default)
			}
			m.Default, hasDefault = entry, true
			continue
		}
		if addr == "" {
			return Mapping{}, fmt.Errorf("builder entry %q: empty address", entry)
		}
		p, err := normalizePlatform(plat)
		if err != nil {
			return Mapping{}, fmt.Errorf("builder entry %q: %w", entry, err)
		}
		if _, dup := m.ByPlatform[p]; dup {
			return Mapping{}, fmt.Errorf("builder entry %q: platform %s given more than once", entry, p)
		}
		m.ByPlatform[p] = addr
	}
	return m, nil
}

// splitEntry tells PLATFORM=ADDR apart from a bare address; addresses may
// themselves contain '=' (query strings), but only after their "scheme://".
func splitEntry(entry string) (plat, addr string, ok bool) {
	plat, addr, ok = strings.Cut(entry, "=")
	if !ok || strings.Contains(plat, "://") {
		return "", "", false
	}
	return strings.TrimSpace(plat), strings.TrimSpace(addr), true
}

func normalizePlatform(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("empty platform")
	}
	spec, err := platforms.Parse(p)
	if err != nil {
		return "", err
	}
	return platforms.Format(platforms.Normalize(spec)), nil
}

// For returns the address for platform p, or Default, or "" meaning the
// local embedded builder.
func (m Mapping) For(p string) string {
	if n, err := normalizePlatform(p); err == nil {
		p = n
	}
	if a, ok := m.ByPlatform[p]; ok {
		return a
	}
	return m.Default
}

// Group returns platforms grouped by builder address, sorted by address with
// platforms sorted inside, so callers schedule builds deterministically.
func (m Mapping) Group(plats []string) []Group {
	byAddr := map[string][]string{}
	seen := map[string]bool{}
	for _, p := range plats {
		if seen[p] {
			continue
		}
		seen[p] = true
		a := m.For(p)
		byAddr[a] = append(byAddr[a], p)
	}
	groups := make([]Group, 0, len(byAddr))
	for a, ps := range byAddr {
		sort.Strings(ps)
		groups = append(groups, Group{Address: a, Platforms: ps})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Address < groups[j].Address })
	return groups
}
