package deb

import (
	"testing"

	"github.com/lkpkg/lkpkg/mirror/internal/versiontest"
)

func TestCompareVersions(t *testing.T) {
	versiontest.CheckBothWays(t, "CompareVersions", CompareVersions, versiontest.Read(t, versiontest.PairsFile))
}

func TestVersionSatisfies(t *testing.T) {
	tests := []struct {
		v, op, want string
		ok          bool
	}{
		{"1.0", "", "", true},
		{"1.0", "<<", "1.1", true},
		{"1.1", "<<", "1.1", false},
		{"1.1", "<=", "1.1", true},
		{"1.1", "=", "1.1-0", true},
		{"1.1", ">=", "1.1", true},
		{"1.1", ">>", "1.1", false},
		{"1.1+b1", ">>", "1.1", true},
		{"1.1~rc1", ">=", "1.1", false},
		{"1.1", "!=", "1.1", false},
	}
	for _, tc := range tests {
		if got := VersionSatisfies(tc.v, tc.op, tc.want); got != tc.ok {
			t.Errorf("%s %s %s = %v, want %v", tc.v, tc.op, tc.want, got, tc.ok)
		}
	}
}

// Cases from t-version.c's test_version_parse; dpkg's warnings about
// characters are errors here, its "does not start with a digit" is not.
func TestValidateVersion(t *testing.T) {
	valid := []string{
		"0", "0:0", "0:0-", "0:0-0", "0:0.0-0.0", "1:0", "5:1", "0:0-0-0",
		"0:0-0-0-0", "0:0:0-0", "0:0:0:0-0", "0:0:0-0-0", "0:0-0:0-0",
		"0:09azAZ.-+~:-0", "0:0-azAZ09.+~", "0:abc3-0", "2.36-9+deb12u13",
	}
	for _, v := range valid {
		if err := validateVersion(v); err != nil {
			t.Errorf("validateVersion(%q) = %v, want ok", v, err)
		}
	}
	invalid := []string{
		"", "0:", "0:0 0-1", "-1:0-1", "999999999999999999999999:0-1",
		"a:0-0", "A:0-0", "-0", "0:-0", "0:0-0:0", "1.0@3-2", "10a:5.2",
		"1.0/../x", "1.0\x00", "1.0-r_1",
	}
	for _, c := range "!#@$%&/|\\<>()[]{};,_=*^'" {
		invalid = append(invalid, "0:0"+string(c)+"-0", "0:0-0"+string(c))
	}
	for _, v := range invalid {
		if err := validateVersion(v); err == nil {
			t.Errorf("validateVersion(%q) = nil, want an error", v)
		}
	}
}
