package apk

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestResolveRandomWorldsMatchApk replays worlds drawn at random from the
// v3.19 indexes (plus a few edge cases: conflicts, impossible versions,
// unknown names, fuzzy ~ and = constraints) against the answers real apk
// gave, recorded in testdata/random_expected.txt by expect.sh.
func TestResolveRandomWorldsMatchApk(t *testing.T) {
	f, err := os.Open("testdata/random_expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	repoCache := map[string]Repository{}
	repo := func(n string) Repository {
		if r, ok := repoCache[n]; ok {
			return r
		}
		r := loadRepo(t, n)
		repoCache[n] = r
		return r
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		if len(parts) != 3 {
			t.Fatalf("bad line %q", sc.Text())
		}
		var repos []Repository
		for _, r := range strings.Fields(parts[0]) {
			repos = append(repos, repo(r))
		}
		world := strings.Fields(parts[1])
		pkgs, err := Resolve(repos, world)
		if parts[2] == "ERROR" {
			if err == nil {
				t.Errorf("world %v: apk fails but Resolve chose %d packages", world, len(pkgs))
			}
			continue
		}
		if err != nil {
			t.Errorf("world %v: %v", world, err)
			continue
		}
		var got []string
		for _, p := range pkgs {
			got = append(got, p.String())
		}
		want := strings.Fields(parts[2])
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("world %v:\nextra: %v\nmissing: %v", world, minus(got, want), minus(want, got))
		}
		n++
	}
	if n < 50 {
		t.Fatalf("only %d successful worlds checked", n)
	}
}
