package debfile_test

import (
	"archive/tar"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/mirror/debfile"
	"github.com/lkpkg/lkpkg/mirror/debfile/debtest"
)

// TestRealDebs opens real bookworm packages (xz-compressed, as nearly all
// of bookworm is) and checks every file of the data member against the
// package's own md5sums: the strongest check that both members decode.
func TestRealDebs(t *testing.T) {
	pins := debtest.Lookup(t, "mawk", "dash", "libc6")
	files := debtest.Fetch(t, pins...)
	for i, p := range pins {
		t.Run(p.Name, func(t *testing.T) {
			f, err := os.Open(files[i])
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			d, err := debfile.Open(f, p.Size)
			if err != nil {
				t.Fatal(err)
			}
			if d.Fields["Package"] != p.Name || d.Fields["Version"] != p.Version || d.Fields["Architecture"] != p.Arch {
				t.Fatalf("control says %s %s %s", d.Fields["Package"], d.Fields["Version"], d.Fields["Architecture"])
			}
			if d.DataMember != "data.tar.xz" || !strings.Contains(d.Fields["Description"], "\n ") {
				t.Fatalf("data member %s, description %q", d.DataMember, d.Fields["Description"])
			}
			if _, ok := d.Scripts["postinst"]; !ok && p.Name != "libc6" {
				t.Fatalf("no postinst among %d scripts", len(d.Scripts))
			}
			want := map[string]string{} // path -> md5
			for _, line := range strings.Split(strings.TrimSpace(string(d.Scripts["md5sums"])), "\n") {
				sum, name, ok := strings.Cut(line, "  ")
				if !ok {
					t.Fatalf("md5sums line %q", line)
				}
				want[name] = sum
			}
			// dpkg leaves conffiles out of md5sums: their sums live in status.
			conf := map[string]bool{}
			for _, c := range strings.Fields(string(d.Scripts["conffiles"])) {
				conf[strings.TrimPrefix(c, "/")] = true
			}
			checked := 0
			eachDataEntry(t, d, func(h *tar.Header, r io.Reader) {
				if h.Typeflag != tar.TypeReg {
					return
				}
				sum := md5.New()
				if _, err := io.Copy(sum, r); err != nil {
					t.Fatal(err)
				}
				name := strings.TrimPrefix(h.Name, "./")
				if conf[name] {
					return
				}
				if got := hex.EncodeToString(sum.Sum(nil)); want[name] != got {
					t.Errorf("%s: md5 %s, md5sums says %q", name, got, want[name])
				}
				delete(want, name)
				checked++
			})
			if len(want) != 0 || checked == 0 {
				t.Fatalf("checked %d files; not in data: %v", checked, want)
			}
		})
	}
}
