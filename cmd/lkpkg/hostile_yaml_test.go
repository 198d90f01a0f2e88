package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Alias bombs, for every YAML file lkpkg reads: ten levels of ten aliases
// (or << merges) expand to 10^10 nodes from under a kilobyte. Each must be
// refused by the alias budget before any expansion work, in well under a
// second, whatever the file's schema.
func init() {
	for _, kind := range []struct {
		name, file string
		args       func(dir string) []string
	}{
		{"image YAML", "bomb.yml", func(dir string) []string {
			return []string{"build", "-o", workDir, filepath.Join(dir, "bomb.yml")}
		}},
		{"build.yml", "build.yml", func(dir string) []string { return []string{"pkg", "show-tag", dir} }},
		{"mirror.yml", "mirror.yml", func(dir string) []string { return []string{"mirror", "lock", filepath.Join(dir, "mirror.yml")} }},
	} {
		for _, merge := range []bool{false, true} {
			style := "alias"
			if merge {
				style = "merge-key"
			}
			registerHostile(hostileInput{
				name: fmt.Sprintf("%s %s bomb", kind.name, style),
				setup: func(t *testing.T, dir string) []string {
					writeFiles(t, dir, map[string]string{kind.file: yamlBomb(10, 10, merge), "Dockerfile": "FROM scratch\n"})
					return kind.args(dir)
				},
				want:    []string{kind.file + ":", "alias bomb"},
				maxTime: 2 * time.Second,
				maxRSS:  128 << 20,
			})
		}
	}
}

// yamlBomb is a document whose last key expands to width^depth nodes,
// through plain aliases or through << merge keys.
func yamlBomb(depth, width int, merge bool) string {
	var b strings.Builder
	b.WriteString("a0: &a0 {k: v}\n")
	for i := 1; i <= depth; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), width), ", ")
		if merge {
			// Each level merges the previous one under distinct keys, so
			// no level collapses into the one before.
			fmt.Fprintf(&b, "a%d: &a%d\n  <<: [%s]\n", i, i, refs)
			for j := 0; j < width; j++ {
				fmt.Fprintf(&b, "  k%d_%d: *a%d\n", i, j, i-1)
			}
		} else {
			fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, refs)
		}
	}
	fmt.Fprintf(&b, "bomb: *a%d\n", depth)
	return b.String()
}
