package layertest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Escape is a layer crafted to reach host files through /mirror/debian,
// where `lkpkg mirror fetch --from-image` takes its .debs from: once, the
// merge moved such files into its work directory and deleted them with it.
type Escape struct {
	Name    string
	Entries []Entry
	// Refusal is part of the error a confined unpack or merge gives; ""
	// when the entries are harmless there (the merge takes nothing).
	Refusal string
}

// MirrorEscapes aim at host, a directory written by WriteHostDir: through
// a symlink at each level of /mirror/debian, a relative one climbing out
// with "..", a ".." entry name and a hard link.
func MirrorEscapes(host string) []Escape {
	up := strings.Repeat("../", 32) + strings.TrimPrefix(host, "/")
	return []Escape{
		{"mirror is a symlink to a host dir", []Entry{Sym("mirror", host)}, "path escapes"},
		{"mirror/debian is a symlink to a host dir", []Entry{Dir("mirror/"), Sym("mirror/debian", host+"/debian")}, "path escapes"},
		{"mirror/debian/pool is a symlink to a host dir", []Entry{Dir("mirror/"), Dir("mirror/debian/"), Sym("mirror/debian/pool", host+"/debian/pool")}, ""},
		{"relative symlink climbing out", []Entry{Sym("mirror", up)}, "path escapes"},
		{"entry name climbing out", []Entry{File("mirror/debian/"+up+"/planted.deb", "x")}, "path escapes the root"},
		{"hard link to a host file", []Entry{Dir("mirror/"), Dir("mirror/debian/"), Hard("mirror/debian/secret.deb", host+"/secret.deb")}, "is not in the image"},
	}
}

// hostFiles are the files WriteHostDir writes, by slash path.
var hostFiles = map[string]string{"secret.deb": "host secret", "debian/pool/main/h/hello/hello_2.10-3_amd64.deb": "host deb"}

// WriteHostDir writes the host files MirrorEscapes aim at below host.
func WriteHostDir(t testing.TB, host string) {
	t.Helper()
	for name, body := range hostFiles {
		p := filepath.Join(host, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// CheckHostDir fails t unless host holds exactly what WriteHostDir wrote.
func CheckHostDir(t testing.TB, host string) {
	t.Helper()
	got := Files(t, host)
	for name, want := range hostFiles {
		if got[name] != want {
			t.Errorf("host file %s: %q, want %q", name, got[name], want)
		}
	}
	for name := range got {
		if _, ok := hostFiles[name]; !ok {
			t.Errorf("a file appeared in the host dir: %s", name)
		}
	}
}

// Files maps the slash path of every regular file below dir to its
// content; a dir that does not exist has none.
func Files(t testing.TB, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return got
}
