package pkgs

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// One cache and builder shared by the tests that need the same heavy
// packages (the toolchain, the kernel), so each is built once per run.
var shared struct {
	once sync.Once
	dir  string
	l    lkpkg
}

func sharedLkpkg(t *testing.T) lkpkg {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "lkpkg-pkgs-")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir = dir
		shared.l = lkpkg{bin: testenv.LkpkgBinary(t), cache: filepath.Join(dir, "cache"), state: filepath.Join(dir, "b")}
	})
	if shared.dir == "" {
		t.Fatal("shared cache not set up")
	}
	return shared.l
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		cmd := exec.Command(shared.l.bin, "builder", "stop")
		cmd.Env = append(os.Environ(), "LKPKG_CACHE="+shared.l.cache, "LKPKG_BUILDER_DIR="+shared.l.state)
		cmd.Run()
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}
