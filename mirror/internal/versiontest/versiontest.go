// Package versiontest checks a version comparison function against tables
// of expected answers and for the properties of a total order. The apk and
// deb version tests share it: the two orders differ, the way they are
// tested does not.
//
// A table is a text file of "A B OP" lines, OP being <, = or >, the format
// mirror/apk/testdata/expect.sh records from the real `apk version -t`.
// Blank lines and lines starting with # are skipped.
package versiontest

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// Pair is one table line: Compare(A, B) should be Want (-1, 0 or 1).
type Pair struct {
	A, B string
	Want int
	Op   string // Want as written in the table
}

// PairsFile is where a package keeps its hand-picked table, relative to
// its directory, where its tests run.
const PairsFile = "testdata/version_pairs.txt"

var ops = map[string]int{"<": -1, "=": 0, ">": 1}

// Read returns the pairs of the table at path.
func Read(tb testing.TB, path string) []Pair {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	pairs, err := parse(string(data))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return pairs
}

func parse(text string) ([]Pair, error) {
	var pairs []Pair
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			return nil, fmt.Errorf("bad line %q", line)
		}
		want, ok := ops[fields[2]]
		if !ok {
			return nil, fmt.Errorf("bad op in %q", line)
		}
		pairs = append(pairs, Pair{A: fields[0], B: fields[1], Want: want, Op: fields[2]})
	}
	return pairs, nil
}

// CheckBothWays fails the test for every pair where cmp(A, B) is not Want
// or cmp(B, A) is not -Want.
func CheckBothWays(t testing.TB, name string, cmp func(a, b string) int, pairs []Pair) {
	t.Helper()
	for _, p := range pairs {
		if got := cmp(p.A, p.B); got != p.Want {
			t.Errorf("%s(%q, %q) = %d, want %d", name, p.A, p.B, got, p.Want)
		}
		if got := cmp(p.B, p.A); got != -p.Want {
			t.Errorf("%s(%q, %q) = %d, want %d", name, p.B, p.A, got, -p.Want)
		}
	}
}

// Seed adds each pair, with "1.0" as the third version, to the corpus of a
// fuzz test taking (a, b, c string).
func Seed(f *testing.F, pairs []Pair) {
	for _, p := range pairs {
		f.Add(p.A, p.B, "1.0")
	}
}

// CheckReflexive fails unless cmp(a, b) is -1, 0 or 1 and cmp(a, a) is 0:
// what even an order on invalid versions must give.
func CheckReflexive(t testing.TB, cmp func(a, b string) int, a, b string) {
	t.Helper()
	if ab := cmp(a, b); ab < -1 || ab > 1 {
		t.Fatalf("Compare(%q, %q) = %d, want -1, 0 or 1", a, b, ab)
	}
	if cmp(a, a) != 0 {
		t.Fatalf("Compare(%q, %q) != 0", a, a)
	}
}

// CheckTotal fails unless cmp is antisymmetric on a and b and transitive
// on a, b and c.
func CheckTotal(t testing.TB, cmp func(a, b string) int, a, b, c string) {
	t.Helper()
	ab, ba := cmp(a, b), cmp(b, a)
	if ab != -ba {
		t.Fatalf("Compare(%q, %q) = %d but Compare(%q, %q) = %d", a, b, ab, b, a, ba)
	}
	bc, ac := cmp(b, c), cmp(a, c)
	if ab <= 0 && bc <= 0 && ac > 0 {
		t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
	}
	if ab >= 0 && bc >= 0 && ac < 0 {
		t.Fatalf("not transitive: %q >= %q >= %q but %q < %q", a, b, c, a, c)
	}
}
