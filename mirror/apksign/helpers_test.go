package apksign

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/internal/testenv"
)

const (
	key6165ee59 = "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"
	key616ae350 = "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub"
)

func alpinePath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(testenv.AlpineDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("real Alpine test data missing: %v", err)
	}
	return p
}

func readAlpine(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(alpinePath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func alpineKeys(t testing.TB) *Keyring {
	t.Helper()
	k, err := LoadKeyring(alpinePath(t, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// indexEntry is the part of an APKINDEX record the tests need.
type indexEntry struct{ name, version, checksum string }

// parseIndex is a deliberately tiny APKINDEX reader (P:, V:, C: only); the
// real parser lives in mirror/apk.
func parseIndex(t testing.TB, text []byte) map[string]indexEntry {
	t.Helper()
	out := make(map[string]indexEntry)
	var cur indexEntry
	commit := func() {
		if cur.name != "" {
			out[cur.name+"-"+cur.version] = cur
		}
		cur = indexEntry{}
	}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			commit()
		case strings.HasPrefix(line, "P:"):
			cur.name = line[2:]
		case strings.HasPrefix(line, "V:"):
			cur.version = line[2:]
		case strings.HasPrefix(line, "C:"):
			cur.checksum = line[2:]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	commit()
	return out
}

// indexRecords splits APKINDEX text into its blank-line separated records,
// keyed by "name-version".
func indexRecords(text []byte) map[string]string {
	out := make(map[string]string)
	for _, rec := range strings.Split(string(text), "\n\n") {
		var p, v string
		for _, l := range strings.Split(rec, "\n") {
			if strings.HasPrefix(l, "P:") {
				p = l[2:]
			} else if strings.HasPrefix(l, "V:") {
				v = l[2:]
			}
		}
		if p != "" {
			out[p+"-"+v] = strings.TrimSpace(rec) + "\n"
		}
	}
	return out
}

// memberBounds returns the end offset of every gzip member of data, found
// with compress/gzip directly as a cross-check of memberReader.
func memberBounds(t testing.TB, data []byte) []int {
	t.Helper()
	br := bytes.NewReader(data)
	var ends []int
	for br.Len() > 0 {
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatalf("member %d: %v", len(ends), err)
		}
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatalf("member %d: %v", len(ends), err)
		}
		ends = append(ends, len(data)-br.Len())
	}
	return ends
}

func flipByte(data []byte, off int) []byte {
	out := bytes.Clone(data)
	out[off] ^= 0x55
	return out
}

func countLines(b []byte, prefix string) int {
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// subset is the keys of k whose names keep accepts.
func subset(k *Keyring, keep func(name string) bool) *Keyring {
	out := NewKeyring()
	for _, n := range k.Names() {
		if keep(n) {
			out.keys[n], _ = k.Key(n)
		}
	}
	return out
}

// readAlpineMembers is readAlpine for a file of n gzip members; it returns
// the data and the end offset of each member.
func readAlpineMembers(t testing.TB, rel string, n int) (data []byte, ends []int) {
	t.Helper()
	data = readAlpine(t, rel)
	ends = memberBounds(t, data)
	if len(ends) != n {
		t.Fatalf("%s has %d gzip members, want %d", rel, len(ends), n)
	}
	return data, ends
}
