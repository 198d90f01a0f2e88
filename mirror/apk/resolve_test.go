package apk

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func loadRepo(tb testing.TB, name string) Repository {
	tb.Helper()
	pkgs, err := ParseIndex(bytes.NewReader(indexText(tb, name)))
	if err != nil {
		tb.Fatal(err)
	}
	return Repository{Name: name, Packages: pkgs}
}

// readExpectation reads a testdata/resolve_*.txt file written by expect.sh:
// "# world: a b c" and one name-version per line as the real apk chose.
func readExpectation(t *testing.T, path string) (world, want []string, useCommunity bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# world: "):
			world = strings.Fields(strings.TrimPrefix(line, "# world: "))
		case strings.HasPrefix(line, "#"):
			useCommunity = useCommunity || strings.Contains(line, "/community")
		case line != "":
			want = append(want, line)
		}
	}
	if len(world) == 0 || len(want) == 0 {
		t.Fatalf("%s: no world or no packages", path)
	}
	return world, want, useCommunity
}

// TestResolveMatchesApk compares Resolve with what apk-tools 2.14.4 chose
// (see testdata/expect.sh) for each recorded world.
func TestResolveMatchesApk(t *testing.T) {
	files, _ := filepath.Glob("testdata/resolve_*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata/resolve_*.txt")
	}
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "resolve_"), ".txt")
		t.Run(name, func(t *testing.T) {
			world, want, community := readExpectation(t, file)
			repos := []Repository{loadRepo(t, "main")}
			if community {
				repos = append(repos, loadRepo(t, "community"))
			}
			pkgs, err := Resolve(repos, world)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pkgs {
				got = append(got, p.String())
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("world %v:\n got %d: %v\nwant %d: %v\nextra: %v\nmissing: %v",
					world, len(got), got, len(want), want, minus(got, want), minus(want, got))
			}
		})
	}
}

func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}
