package apk

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

// readIndexText extracts the APKINDEX member of a signed APKINDEX.tar.gz.
// The file is a signature gzip stream followed by the index stream;
// gzip's multistream mode lets one tar reader walk both.
func readIndexText(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, errors.New("no APKINDEX member")
		}
		if err != nil {
			return nil, err
		}
		if h.Name == "APKINDEX" {
			return io.ReadAll(tr)
		}
	}
}

var (
	indexOnce sync.Map // repo name -> *indexEntry
)

type indexEntry struct {
	once sync.Once
	text []byte
	err  error
}

// indexText returns the plain APKINDEX text of v3.19/<repo>, skipping the
// test when the shared data is absent.
func indexText(tb testing.TB, repo string) []byte {
	tb.Helper()
	v, _ := indexOnce.LoadOrStore(repo, &indexEntry{})
	e := v.(*indexEntry)
	e.once.Do(func() {
		e.text, e.err = readIndexText(filepath.Join(testenv.AlpineDir(tb), "v3.19", repo, "x86_64", "APKINDEX.tar.gz"))
	})
	if e.err != nil {
		tb.Fatal(e.err)
	}
	return e.text
}
