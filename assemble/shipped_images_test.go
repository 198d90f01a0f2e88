package assemble

import (
	"path/filepath"
	"testing"
)

// Every image YAML shipped in images/ parses and validates.
func TestShippedImagesParse(t *testing.T) {
	files, err := filepath.Glob("../images/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no images/*.yml: %v", err)
	}
	for _, f := range files {
		img, err := LoadImage(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(img.Refs()) == 0 {
			t.Errorf("%s: no images", f)
		}
	}
}
