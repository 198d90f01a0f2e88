package rootfs

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestCleanName(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"./", "/", ""},
		{"./usr/bin/", "/usr/bin", ""},
		{"usr//bin/./x", "/usr/bin/x", ""},
		{"/etc/passwd", "/etc/passwd", ""},
		{"./../etc/passwd", "", `contains ".."`},
		{"./usr/../../x", "", `contains ".."`},
		{"..", "", `contains ".."`},
		{"./a\x00b", "", "NUL"},
	}
	for _, tt := range tests {
		got, err := cleanName(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("cleanName(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestUsrMerged(t *testing.T) {
	for in, want := range map[string]string{
		"/bin/sh": "usr/bin/sh", "/sbin": "usr/sbin", "/lib/x86_64-linux-gnu/libc.so.6": "usr/lib/x86_64-linux-gnu/libc.so.6",
		"/lib64/ld-linux-x86-64.so.2": "usr/lib64/ld-linux-x86-64.so.2", "/lib32/x": "usr/lib32/x",
		"/usr/bin/awk": "usr/bin/awk", "/etc/passwd": "etc/passwd", "/library/x": "library/x", "/binary": "binary", "/": "",
	} {
		if got := usrMerged(in); got != want {
			t.Errorf("usrMerged(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRetarget(t *testing.T) {
	tests := []struct{ link, target, want string }{
		{"/bin/sh", "dash", "dash"},                        // same directory: unchanged
		{"/lib/x/libz.so.1", "libz.so.1.2", "libz.so.1.2"}, // same
		{"/lib/foo", "../usr/lib/bar", "bar"},              // would be /usr/usr/lib/bar
		{"/sbin/x", "../bin/y", "../bin/y"},                // sibling merged directory
		{"/lib/x/a", "../../etc/a", "../../../etc/a"},      // out of the merged tree
		{"/bin/x", "/usr/bin/y", "/usr/bin/y"},             // absolute: unchanged
		{"/usr/bin/x", "../../bin/y", "../../bin/y"},       // not moved: unchanged
		{"/bin/x", "../../../y", "../../y"},                // ".." past the root stays at the root
	}
	for _, tt := range tests {
		if got := retarget(tt.link, tt.target); got != tt.want {
			t.Errorf("retarget(%q, %q) = %q, want %q", tt.link, tt.target, got, tt.want)
		}
	}
}

func TestComparePaths(t *testing.T) {
	got := []string{"usr/bin-old", "usr/bin/x", "usr", "etc", "usr/bin", "usr/bin.d", "usr/bin/x/y", "a"}
	slices.SortFunc(got, comparePaths)
	want := []string{"a", "etc", "usr", "usr/bin", "usr/bin/x", "usr/bin/x/y", "usr/bin-old", "usr/bin.d"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestParents(t *testing.T) {
	if got := parents("usr/bin/sh"); !reflect.DeepEqual(got, []string{"usr", "usr/bin"}) {
		t.Fatal(got)
	}
	if got := parents("etc"); got != nil {
		t.Fatal(got)
	}
}
