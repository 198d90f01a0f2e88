package assemble

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// must(f())(t) is f's value, or fails t with f's error. (Go cannot pass
// t along with f's two results in one call.)
func must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// withConfig returns img with a copy of its config file changed by edit.
func withConfig(t testing.TB, img v1.Image, edit func(cf *v1.ConfigFile)) v1.Image {
	t.Helper()
	cf := must(img.ConfigFile())(t).DeepCopy()
	edit(cf)
	return must(mutate.ConfigFile(img, cf))(t)
}
