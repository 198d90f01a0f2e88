package deb

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// t0 is the fixed "now" of the synthetic signature tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// releaseText builds a small Release paragraph; extra lines (e.g.
// "Valid-Until: ...") go after Date.
func releaseText(date time.Time, files map[string]FileHash, extra ...string) string {
	var b strings.Builder
	b.WriteString("Origin: Test\nLabel: Test\nSuite: stable\nCodename: testy\n")
	b.WriteString("Date: " + date.UTC().Format(time.RFC1123) + "\n")
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	b.WriteString("Architectures: amd64 arm64\nComponents: main\nSHA256:\n")
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		fh := files[name]
		fmt.Fprintf(&b, " %s %d %s\n", fh.SHA256, fh.Size, name)
	}
	return b.String()
}

// sha returns the hex SHA-256 of b, as Release and Packages files give it.
func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// wantErr fails unless err is non-nil and contains every fragment.
func wantErr(t testing.TB, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Fatalf("error %q does not contain %q", err, f)
		}
	}
}

// wantErrIs is wantErr for an error that must also match target with
// errors.Is.
func wantErrIs(t testing.TB, err, target error, fragments ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v is not %v", err, target)
	}
	wantErr(t, err, fragments...)
}
