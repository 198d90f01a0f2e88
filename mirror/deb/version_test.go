package deb

import "testing"

// Pairs from dpkg's scripts/t/Dpkg_Version.t (checked there against
// `dpkg --compare-versions`) and lib/dpkg/t/t-version.c.
var versionPairs = []struct {
	a, b string
	want int
}{
	// Dpkg_Version.t
	{"1.0-1", "2.0-2", -1},
	{"2.2~rc-4", "2.2-1", -1},
	{"2.2-1", "2.2~rc-4", 1},
	{"1.0000-1", "1.0-1", 0},
	{"1", "0:1", 0},
	{"0", "0:0-0", 0},
	{"2:2.5", "1:7.5", 1},
	{"1:foo", "foo", 1},
	{"0:foo", "foo", 0},
	{"foo", "foo", 0},
	{"foo-", "foo", 0},
	{"foo-", "foo-0", 0},
	{"foo", "fo", 1},
	{"foo-", "foo+", -1},
	{"foo~1", "foo", -1},
	{"foo~foo+Bar", "foo~foo+bar", -1},
	{"foo~~", "foo~", -1},
	{"1~", "1", -1},
	{"12345+that-really-is-some-ver-0", "12345+that-really-is-some-ver-10", -1},
	{"foo-0", "foo-01", -1},
	{"foo.bar", "foobar", 1},
	{"foo.bar", "foo1bar", 1},
	{"foo.bar", "foo0bar", 1},
	{"1foo-1", "foo-1", -1},
	{"foo2.0", "foo2", 1},
	{"foo2.0.0", "foo2.10.0", -1},
	{"foo2.0", "foo2.0.0", -1},
	{"foo2.0", "foo2.10", -1},
	{"foo2.1", "foo2.10", -1},
	{"1.09", "1.9", 0},
	{"1.0.8+nmu1", "1.0.8", 1},
	{"3.11", "3.10+nmu1", 1},
	{"0.9j-20080306-4", "0.9i-20070324-2", 1},
	{"1.2.0~b7-1", "1.2.0~b6-1", 1},
	{"1.011-1", "1.06-2", 1},
	{"0.0.9+dfsg1-1", "0.0.8+dfsg1-3", 1},
	{"4.6.99+svn6582-1", "4.6.99+svn6496-1", 1},
	{"53", "52", 1},
	{"0.9.9~pre122-1", "0.9.9~pre111-1", 1},
	{"2:2.3.2-2+lenny2", "2:2.3.2-2", 1},
	{"1:3.8.1-1", "3.8.GA-1", 1},
	{"1.0.1+gpl-1", "1.0.1-2", 1},
	{"1a", "1000a", -1},
	// t-version.c: equality, epoch, version and revision differences.
	{"0:0-0", "0:0-0", 0},
	{"0:0-00", "0:00-0", 0},
	{"1:2-3", "1:2-3", 0},
	{"0:0-0", "1:0-0", -1},
	{"0:a-0", "0:b-0", -1},
	{"0:0-a", "0:0-b", -1},
	{"0:1-1", "0:2-1", -1},
	{"0:1-1", "0:1-2", -1},
	{"0:0-0-0", "0:0-0-0", 0},
	{"0:0:0-0", "0:0:0-0", 0},
	// Real archive shapes: security and stable updates, binNMUs, epochs.
	{"2.36-9+deb12u13", "2.36-9+deb12u4", 1},
	{"2.36-9+deb12u1", "2.36-9", 1},
	{"2.5.4-1+b3", "2.5.4-1", 1},
	{"2.5.4-1+deb12u1", "2.5.4-1+b3", 1},
	{"12.2.0-14+deb12u1", "12.2.0-14", 1},
	{"4:12.2.0-3", "12.2.0-14", 1},
	{"1:1.2.13.dfsg-1", "1.3", 1},
	{"1.0~rc1", "1.0~rc1~", 1},
	{"99999999999999999999999", "99999999999999999999998", 1},
	// Cases the root filesystem builder relies on (Replaces decisions).
	{"1.10", "1.9", 1},
	{"1.0", "1.0+b1", -1},
	{"1:0.1", "9.9", 1},
	{"2.36-9+deb12u14", "2.36-9+deb12u9", 1},
	{"1.0a", "1.0", 1},
	{"1.0~", "1.0~~", 1},
	{"1.001", "1.1", 0},
	{"1.0-1", "1.0", 1},
	{"1.00000000000000000000000000001", "1.1", 0},
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range versionPairs {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareVersions(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
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
