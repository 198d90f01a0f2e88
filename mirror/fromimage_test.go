package mirror

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/assemble/layer"
	"github.com/lkpkg/lkpkg/assemble/layer/layertest"
)

// oneImage serves img for every ref and platform.
type oneImage struct{ img v1.Image }

func (o oneImage) Image(string, v1.Platform) (v1.Image, error) { return o.img, nil }

// confinedUnpacker is what cmd/lkpkg passes: assemble/layer's unpack and
// moves, inside an os.Root.
type confinedUnpacker struct{}

func (confinedUnpacker) Unpack(dir string, img v1.Image) error {
	return layer.Unpack(dir, img, layer.Options{})
}

func (confinedUnpacker) MoveFiles(dir, from, to string) error { return layer.MoveFiles(dir, from, to) }

// A mirror image whose /mirror reaches a host directory gets nothing out
// of it: the merge is refused naming the image, or takes nothing, and the
// host files stay where they are.
func TestDebsFromImageStaysInItsDirectory(t *testing.T) {
	yml := "image: tc\ndebian:\n  sources:\n    - url: http://127.0.0.1:9/debian\n      suite: bookworm\n      components: [main]\n  keyring: keys\n  arches: [amd64]\n  packages: [hello]\n"
	c, err := ParseConfig(filepath.Join(t.TempDir(), "mirror.yml"), []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range layertest.MirrorEscapes("/host") {
		t.Run(tc.Name, func(t *testing.T) {
			host := t.TempDir()
			layertest.WriteHostDir(t, host)
			tc := layertest.MirrorEscapes(host)[i]
			tmp := t.TempDir() // where DebsFromImage works
			t.Setenv("TMPDIR", tmp)
			img := layertest.Image(t, layertest.Tar(t, tc.Entries...))
			up, cleanup, err := DebsFromImage(c, oneImage{img}, "test/tc:1", confinedUnpacker{})
			switch {
			case tc.Refusal != "":
				wantErr(t, err, "--from-image test/tc:1 (amd64)")
				wantErr(t, err, tc.Refusal)
			case err != nil:
				t.Errorf("refused harmless entries: %v", err)
			default:
				if got := layertest.Files(t, strings.TrimPrefix(up, "file://")); len(got) > 0 {
					t.Errorf("the pool holds files from outside the image: %v", got)
				}
			}
			cleanup()
			layertest.CheckHostDir(t, host)
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("left in TMPDIR: %v", left)
			}
		})
	}
}
