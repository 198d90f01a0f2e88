package rootfs

import (
	"archive/tar"
	"testing"
)

func TestResolve(t *testing.T) {
	tr := newTree(nil, sde)
	for _, e := range []*entry{
		dir("usr", 0o755), dir("usr/bin", 0o755), dir("usr/lib", 0o755), dir("etc", 0o755),
		symlink("bin", "usr/bin"), symlink("lib", "usr/lib"),
		{path: "usr/bin/gcc-12", typ: tar.TypeReg},
		symlink("usr/bin/gcc", "gcc-12"),
		symlink("usr/bin/abs", "/bin/gcc"),
		symlink("usr/bin/up", "../lib/../bin/gcc"),
		symlink("usr/bin/dangling", "nothing"),
		symlink("usr/bin/loop1", "loop2"), symlink("usr/bin/loop2", "loop1"),
		symlink("usr/bin/escape", "../../../../../usr/bin/gcc-12"),
		symlink("usr/dirlink", "bin"),
	} {
		tr.nodes[e.path] = e
	}
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"/usr/bin/gcc-12", "usr/bin/gcc-12", true},
		{"/bin/gcc", "usr/bin/gcc-12", true},
		{"/usr/bin/abs", "usr/bin/gcc-12", true},
		{"/usr/bin/up", "usr/bin/gcc-12", true},
		{"/usr/bin/escape", "usr/bin/gcc-12", true}, // ".." stops at the root
		{"/usr/dirlink/gcc", "usr/bin/gcc-12", true},
		{"/lib", "usr/lib", true},
		{"/", "", true},
		{"/usr/bin/dangling", "", false},
		{"/usr/bin/loop1", "", false},
		{"/usr/bin/gcc-12/x", "", false},
		{"/nope", "", false},
	}
	for _, tt := range tests {
		got, ok := tr.resolve(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("resolve(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	for in, want := range map[string]string{"/lib/cpp": "usr/lib/cpp", "/usr/bin/gcc": "usr/bin/gcc", "/usr/dirlink/x": "usr/bin/x", "/x": "x"} {
		if got, ok := tr.resolveParent(in); !ok || got != want {
			t.Errorf("resolveParent(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"/usr/bin/gcc-12/x", "/nope/x", "/"} {
		if got, ok := tr.resolveParent(in); ok {
			t.Errorf("resolveParent(%q) = %q", in, got)
		}
	}
}
