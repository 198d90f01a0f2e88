package rootfs

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/mirror/debfile/debtest"
)

func TestInstallRefuses(t *testing.T) {
	link := func(name, target string) debtest.File {
		return debtest.File{Name: name, Type: tar.TypeSymlink, Link: target}
	}
	tests := []struct {
		name string
		pkgs []synth
		err  []string
	}{{
		name: "different content",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{reg("./usr/bin/x", "a")}},
			{name: "bb", version: "2", files: []debtest.File{reg("./usr/bin/x", "b")}}},
		err: []string{"file conflict on /usr/bin/x", "package aa 1 ships it as a file", "package bb 2 ships it as a file"},
	}, {
		name: "different content through merged /usr",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{reg("./bin/x", "a")}},
			{name: "bb", version: "1", files: []debtest.File{reg("./usr/bin/x", "b")}}},
		err: []string{"file conflict on /usr/bin/x", "package aa 1 ships it as a file at /bin/x", "package bb 1"},
	}, {
		name: "Replaces with a version that does not match",
		pkgs: []synth{{name: "aa", version: "1.0", files: []debtest.File{reg("./usr/bin/x", "a")}},
			{name: "bb", version: "1", extra: "Replaces: aa (<< 1.0)\n", files: []debtest.File{reg("./usr/bin/x", "b")}}},
		err: []string{"file conflict on /usr/bin/x", "package aa 1.0", "package bb 1"},
	}, {
		name: "symlink against file",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{reg("./usr/bin/x", "a")}},
			{name: "bb", version: "1", files: []debtest.File{link("./usr/bin/x", "y")}}},
		err: []string{"file conflict on /usr/bin/x", "ships it as a symlink to y"},
	}, {
		name: "directory against file, even with Replaces",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{{Name: "./usr/x/", Type: tar.TypeDir}}},
			{name: "bb", version: "1", extra: "Replaces: aa\n", files: []debtest.File{reg("./usr/x", "b")}}},
		err: []string{"file conflict on /usr/x", "as a directory"},
	}, {
		name: "one package, two contents at aliased paths",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{reg("./bin/x", "1"), reg("./usr/bin/x", "2")}}},
		err:  []string{"file conflict on /usr/bin/x"},
	}, {
		name: "dot-dot path",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{reg("./../etc/passwd", "x")}}},
		err:  []string{`refusing path "./../etc/passwd"`},
	}, {
		name: "dot-dot inside a path",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{reg("./usr/../../tmp/x", "x")}}},
		err:  []string{`contains ".."`},
	}, {
		name: "hard link out of the root",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{{Name: "./usr/bin/y", Type: tar.TypeLink, Link: "../../etc/shadow"}}}},
		err:  []string{"hard link", `contains ".."`},
	}, {
		name: "hard link to a file the package does not have",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{{Name: "./usr/bin/y", Type: tar.TypeLink, Link: "/etc/shadow"}}}},
		err:  []string{"hard link to /etc/shadow, which is not a regular file earlier in the package"},
	}, {
		name: "character device",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{{Name: "./dev/mem", Type: tar.TypeChar}}}},
		err:  []string{"./dev/mem: refusing device node"},
	}, {
		name: "block device",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{{Name: "./dev/sda", Type: tar.TypeBlock}}}},
		err:  []string{"refusing device node"},
	}, {
		name: "fifo",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{{Name: "./run/fifo", Type: tar.TypeFifo}}}},
		err:  []string{"FIFO"},
	}, {
		name: "file beyond a symlink",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{link("./usr/evil", "/etc"), reg("./usr/evil/passwd", "x")}}},
		err:  []string{"/usr/evil/passwd", "lies under /usr/evil, which is not a directory", "symlink to /etc"},
	}, {
		name: "file beyond another package's symlink",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{link("./usr/evil", "../../../..")}},
			{name: "bb", version: "1", files: []debtest.File{reg("./usr/evil/x", "x")}}},
		err: []string{"/usr/evil/x (package bb 1", "not a directory (package aa 1 ships it as a symlink"},
	}, {
		name: "merged directory as a symlink",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{link("./lib64", "/tmp")}}},
		err:  []string{"ships /lib64 as a non-directory"},
	}, {
		name: "same package twice",
		pkgs: []synth{{name: "aa", version: "1"}, {name: "aa", version: "2"}},
		err:  []string{"aa_1_amd64.deb and ", "aa_2_amd64.deb both install package aa"},
	}, {
		name: "same package for two architectures, not Multi-Arch: same",
		pkgs: []synth{{name: "aa", version: "1"}, {name: "aa", version: "1", arch: "arm64"}},
		err:  []string{"both install package aa"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { installRefused(t, tt.err, tt.pkgs...) })
	}
}

func TestInstallNeedsArch(t *testing.T) {
	if _, err := Install(&bytes.Buffer{}, nil, Options{}); err == nil || !strings.Contains(err.Error(), "Arch") {
		t.Fatalf("err = %v", err)
	}
}

// TestInstallSharedAndReplaced checks how a path shipped twice is settled
// and what each package's file list then says.
func TestInstallSharedAndReplaced(t *testing.T) {
	tests := []struct {
		name     string
		pkgs     []synth
		content  string
		listedBy []string // packages whose .list has /usr/bin/x
	}{{
		name: "identical content is shared",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{reg("./usr/bin/x", "same")}},
			{name: "bb", version: "1", files: []debtest.File{reg("./usr/bin/x", "same")}}},
		content: "same", listedBy: []string{"aa", "bb"},
	}, {
		name: "later package replaces earlier",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{reg("./usr/bin/x", "old")}},
			{name: "bb", version: "2", extra: "Replaces: aa (<< 2)\n", files: []debtest.File{reg("./usr/bin/x", "new")}}},
		content: "new", listedBy: []string{"bb"},
	}, {
		name: "earlier package replaces later",
		pkgs: []synth{{name: "aa", version: "1", extra: "Replaces: bb\n", files: []debtest.File{reg("./usr/bin/x", "kept")}},
			{name: "bb", version: "1", files: []debtest.File{reg("./usr/bin/x", "dropped")}}},
		content: "kept", listedBy: []string{"aa"},
	}, {
		name: "symlinks with the same target are shared",
		pkgs: []synth{{name: "aa", version: "1", files: []debtest.File{{Name: "./usr/bin/x", Type: tar.TypeSymlink, Link: "y"}}},
			{name: "bb", version: "1", files: []debtest.File{{Name: "./usr/bin/x", Type: tar.TypeSymlink, Link: "y"}}}},
		listedBy: []string{"aa", "bb"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _, err := installSynth(t, tt.pkgs...)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := readOut(t, b)
			if got := out["usr/bin/x"].body; got != tt.content {
				t.Errorf("content %q, want %q", got, tt.content)
			}
			var listed []string
			for _, p := range []string{"aa", "bb"} {
				if strings.Contains(out["var/lib/dpkg/info/"+p+".list"].body, "\n/usr/bin/x\n") {
					listed = append(listed, p)
				}
			}
			if strings.Join(listed, " ") != strings.Join(tt.listedBy, " ") {
				t.Errorf("listed by %q, want %q", listed, tt.listedBy)
			}
		})
	}
}
