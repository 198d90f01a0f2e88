package apk

import (
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/mirror/internal/versiontest"
)

func TestCompareVersions(t *testing.T) {
	versiontest.CheckBothWays(t, "CompareVersions", CompareVersions, versiontest.Read(t, versiontest.PairsFile))
}

// TestCompareVersionsApk checks 1,500 generated pairs against the answers of
// the real `apk version -t` recorded by testdata/expect.sh.
func TestCompareVersionsApk(t *testing.T) {
	n := 0
	for _, p := range versiontest.Read(t, "testdata/vercmp_expected.txt") {
		if strings.HasSuffix(p.A, ".") || strings.HasSuffix(p.B, ".") {
			// Known divergence: apk orders versions ending in a bare dot
			// inconsistently ("1." > "1" but "1000." < "1000.0"); both are
			// malformed and never appear in an index.
			continue
		}
		if got := CompareVersions(p.A, p.B); got != p.Want {
			t.Errorf("CompareVersions(%q, %q) = %d, apk says %s", p.A, p.B, got, p.Op)
		}
		n++
	}
	if n < 1000 {
		t.Fatalf("only %d pairs read", n)
	}
}

func TestValidVersion(t *testing.T) {
	valid := []string{"1", "1.0", "01.2", "1.0_alpha1_beta", "1.0.a", "1.0-r", "1.0_", "1_alpha_beta",
		"1.2.3_rc1_p2-r3", "1a_p1", "1.0-r1-r2", "1.000000000000000000001", "99999999999999999",
		"1.2.4_git20230717-r4", ""}
	invalid := []string{"1.0~abc123-r0", "1a.2", "abc", "1.0-r1_p", "1.0_p1.2", "1.0_foo",
		"100000000000000000", "1.999999999999999999", "1_p999999999999999999", "1-r999999999999999999", "1.0-x"}
	for _, v := range valid {
		if !ValidVersion(v) {
			t.Errorf("ValidVersion(%q) = false, want true", v)
		}
	}
	for _, v := range invalid {
		if ValidVersion(v) {
			t.Errorf("ValidVersion(%q) = true, want false", v)
		}
	}
}
