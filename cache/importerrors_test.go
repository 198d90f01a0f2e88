package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportBudgetError: a tar over the budget fails with ErrImportTooLarge,
// which the command turns into advice to raise the limit.
func TestImportBudgetError(t *testing.T) {
	src, _ := populated(t)
	_, err := openTest(t).Import(context.Background(), bytes.NewReader(exportOCI(t, src, "lkpkg/init:1")), ImportOptions{MaxBytes: 100})
	if !errors.Is(err, ErrImportTooLarge) {
		t.Fatalf("Import() error = %v, want ErrImportTooLarge", err)
	}
}

// TestImportRefusesBadRefNames: refs are names in `cache ls` and in later
// commands, so an import must not bring a ref that is no image reference.
func TestImportRefusesBadRefNames(t *testing.T) {
	src, _ := populated(t)
	data := exportOCI(t, src, "lkpkg/init:1")
	// ref.name, then containerd's name (which wins over ref.name).
	tests := []struct{ annotation, ref string }{
		{refNameAnnotation, "lkpkg/init:1\nlkpkg/evil:2"},
		{refNameAnnotation, "../../../etc/passwd"},
		{refNameAnnotation, "LKPKG/init:1"},
		{refNameAnnotation, "lkpkg//init:1"},
		{imageNameAnnotation, "docker.io/lkpkg/app:1\nx"},
		{imageNameAnnotation, "../etc/passwd"},
	}
	for _, tt := range tests {
		t.Run(tt.annotation+"="+tt.ref, func(t *testing.T) {
			quoted := strings.Trim(fmt.Sprintf("%q", tt.ref), `"`)
			tar := rewriteTar(t, data, func(name string, b []byte) ([]byte, bool) {
				if name != indexFile {
					return b, true
				}
				from := fmt.Sprintf("%q: %q", refNameAnnotation, "lkpkg/init:1")
				to := fmt.Sprintf("%q: %q", tt.annotation, tt.ref)
				if tt.annotation == imageNameAnnotation {
					to += ", " + from
				}
				if !bytes.Contains(b, []byte(from)) {
					t.Fatalf("index.json has no %s", from)
				}
				return bytes.Replace(b, []byte(from), []byte(to), 1), true
			})
			dst := otherCache(t)
			before := readFile(t, filepath.Join(dst.Dir(), "index.json"))
			refs, err := dst.Import(context.Background(), bytes.NewReader(tar), ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), quoted) || !strings.Contains(err.Error(), "not a valid image reference") {
				t.Fatalf("Import() = %v, %v; want an error naming ref %q as invalid", refs, err, quoted)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Import error %q spans lines", err)
			}
			checkRefusedImport(t, dst, before, blobNames(t, dst))
		})
	}
}
