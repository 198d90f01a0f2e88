package gomod

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestToolchainModule(t *testing.T) {
	for _, tc := range []struct {
		goVersion, goarch string
		want              string // version; "" = error
	}{
		{"go1.26.8", "amd64", "v0.0.1-go1.26.8.linux-amd64"},
		{"go1.21.0", "arm64", "v0.0.1-go1.21.0.linux-arm64"},
		{"go1.27rc1", "riscv64", "v0.0.1-go1.27rc1.linux-riscv64"},
		{"go1.26.0", "386", "v0.0.1-go1.26.0.linux-386"},
		{"go1.26", "amd64", ""},   // a language version, not a release
		{"go1.20.5", "amd64", ""}, // before toolchain modules
		{"1.26.8", "amd64", ""},
		{"go1.26.8", "AMD64", ""},
		{"go1.26.8", "amd64/../x", ""},
		{"go1.26.8 ", "amd64", ""},
	} {
		p, v, err := ToolchainModule(tc.goVersion, tc.goarch)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ToolchainModule(%q, %q) = %s@%s, want an error", tc.goVersion, tc.goarch, p, v)
			}
			continue
		}
		if err != nil || p != "golang.org/toolchain" || v != tc.want {
			t.Errorf("ToolchainModule(%q, %q) = %s@%s, %v; want golang.org/toolchain@%s", tc.goVersion, tc.goarch, p, v, err, tc.want)
		}
	}
}

// zipEntry is a file of a synthetic toolchain zip.
type zipEntry struct {
	name string
	mode fs.FileMode
	data string
}

func writeZip(t *testing.T, entries []zipEntry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tc.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

const tcRoot = "golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64/"

var longName = "src/cmd/vendor/golang.org/x/tools/go/analysis/passes/some/deeply/nested/package/with/a/long/name/file_test.go"

func TestWriteToolchainTar(t *testing.T) {
	zipPath := writeZip(t, []zipEntry{
		{tcRoot + "VERSION", 0o644, "go1.99.0\n"},
		{tcRoot + "bin/go", 0o755, "#!go"},
		{tcRoot + "pkg/tool/linux_amd64/compile", 0o644, "compile"}, // the go command makes it executable anyway
		{tcRoot + "lib/wasm/go_js_wasm_exec", 0o644, "exec"},
		{tcRoot + "lib/wasm/wasm_exec.js", 0o644, "js"},
		{tcRoot + "src/make.bash", 0o755, "#!/bin/sh"},
		{tcRoot + "src/_go.mod", 0o644, "module std\n"},
		{tcRoot + "src/fmt/print.go", 0o4666, "package fmt"}, // setuid and world-writable are dropped
		{tcRoot + longName, 0o644, "package x"},
	})
	var first, second bytes.Buffer
	if err := WriteToolchainTar(&first, zipPath, "/usr/local/go/", testEpoch.Add(999*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := WriteToolchainTar(&second, zipPath, "usr/local/go", testEpoch); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatal("two runs wrote different tars")
	}
	entries, names := readTar(t, bytes.NewReader(first.Bytes()), "")
	checkReproducibleHeaders(t, entries)
	want := map[string]int64{
		"usr/local/go/":                             0o755,
		"usr/local/go/VERSION":                      0o644,
		"usr/local/go/bin/":                         0o755,
		"usr/local/go/bin/go":                       0o755,
		"usr/local/go/lib/":                         0o755,
		"usr/local/go/lib/wasm/":                    0o755,
		"usr/local/go/lib/wasm/go_js_wasm_exec":     0o755,
		"usr/local/go/lib/wasm/wasm_exec.js":        0o644,
		"usr/local/go/pkg/":                         0o755,
		"usr/local/go/pkg/tool/":                    0o755,
		"usr/local/go/pkg/tool/linux_amd64/":        0o755,
		"usr/local/go/pkg/tool/linux_amd64/compile": 0o755,
		"usr/local/go/src/":                         0o755,
		"usr/local/go/src/_go.mod":                  0o644,
		"usr/local/go/src/go.mod":                   0o644,
		"usr/local/go/src/fmt/":                     0o755,
		"usr/local/go/src/fmt/print.go":             0o644,
		"usr/local/go/src/make.bash":                0o755,
		"usr/local/go/" + longName:                  0o644,
	}
	for dir := filepath.Dir("usr/local/go/" + longName); dir != "usr/local/go"; dir = filepath.Dir(dir) {
		want[dir+"/"] = 0o755
	}
	for name, mode := range want {
		e, ok := entries[name]
		if !ok {
			t.Errorf("missing %s", name)
			continue
		}
		if e.hdr.Mode != mode {
			t.Errorf("%s: mode %o, want %o", name, e.hdr.Mode, mode)
		}
	}
	for name := range entries {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected entry %s", name)
		}
	}
	if got := string(entries["usr/local/go/src/go.mod"].data); got != "module std\n" {
		t.Errorf("src/go.mod = %q", got)
	}
	// Sorted, so every directory comes before its contents.
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("entries out of order: %s before %s", names[i-1], names[i])
		}
	}
}

func TestWriteToolchainTarRefusesBadZips(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []zipEntry
		want    string
	}{
		{"other module", []zipEntry{{"example.com/x@v1.0.0/bin/go", 0o755, ""}}, "not below golang.org/toolchain@VERSION/"},
		{"two versions", []zipEntry{{tcRoot + "bin/go", 0o755, ""}, {"golang.org/toolchain@v0.0.1-go1.98.0.linux-amd64/bin/go", 0o755, ""}}, "is not below"},
		{"dot dot", []zipEntry{{tcRoot + "bin/go", 0o755, ""}, {tcRoot + "../../etc/passwd", 0o644, ""}}, "bad file name"},
		{"absolute", []zipEntry{{tcRoot + "/etc/passwd", 0o644, ""}}, "bad file name"},
		{"symlink", []zipEntry{{tcRoot + "bin/go", fs.ModeSymlink | 0o777, "/bin/sh"}}, "not a regular file"},
		{"duplicate", []zipEntry{{tcRoot + "bin/go", 0o755, ""}, {tcRoot + "bin/go", 0o755, ""}}, "duplicate"},
		{"empty", nil, "empty zip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteToolchainTar(io.Discard, writeZip(t, tc.entries), "usr/local/go", testEpoch)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// Pinned by hand from `go mod download -json golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64`.
const (
	toolchainSum      = "h1:ZOmGe1OnfREDMIdb1Qi4G9JSuDPBLGExZMQ4nis1RXM="
	toolchainGoModSum = "h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0="
)

// TestRealToolchain fetches the real go1.26.8 toolchain, installs it from
// the tar and builds a program with it, offline.
func TestRealToolchain(t *testing.T) {
	c := realClient(t)
	ctx := context.Background()
	path, version, err := ToolchainModule("go1.26.8", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Lookup(ctx, path, version)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sum != toolchainSum || m.GoModSum != toolchainGoModSum {
		t.Fatalf("Lookup = %+v, want the pinned %s and %s", m, toolchainSum, toolchainGoModSum)
	}
	start := time.Now()
	f, err := c.Download(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(f.Zip)
	t.Logf("Download (or verify the cached) %s: %.1f MB in %s", m, float64(fi.Size())/1e6, time.Since(start).Round(time.Millisecond))

	tarPath := filepath.Join(t.TempDir(), "go.tar")
	out, err := os.Create(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := WriteToolchainTar(out, f.Zip, "usr/local/go", testEpoch); err != nil {
		t.Fatal(err)
	}
	out.Close()
	ti, _ := os.Stat(tarPath)
	t.Logf("WriteToolchainTar: %.1f MB in %s", float64(ti.Size())/1e6, time.Since(start).Round(time.Millisecond))

	// Determinism: a second run hashes the same.
	h1, h2 := sha256.New(), sha256.New()
	tf, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(h1, tf)
	tf.Close()
	if err := WriteToolchainTar(h2, f.Zip, "usr/local/go", testEpoch); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h1.Sum(nil), h2.Sum(nil)) {
		t.Fatal("two runs wrote different toolchain tars")
	}

	root := t.TempDir()
	tf, err = os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	entries, _ := readTar(t, tf, root)
	checkReproducibleHeaders(t, entries)
	for name, mode := range map[string]int64{
		"usr/local/go/bin/go":                       0o755,
		"usr/local/go/bin/gofmt":                    0o755,
		"usr/local/go/pkg/tool/linux_amd64/compile": 0o755,
		"usr/local/go/src/go.mod":                   0o644,
		"usr/local/go/src/cmd/go.mod":               0o644,
		"usr/local/go/src/fmt/print.go":             0o644,
	} {
		if e, ok := entries[name]; !ok || e.hdr.Mode != mode {
			t.Errorf("%s: %v", name, e.hdr)
		}
	}

	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the linux/amd64 toolchain does not run here")
	}
	goBin := filepath.Join(root, "usr/local/go/bin/go")
	env := goEnv(t)
	if v := runGo(t, goBin, root, env, "version"); !strings.Contains(v, "go1.26.8 linux/amd64") {
		t.Fatalf("go version: %s", v)
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "go.mod"), "module hello\n\ngo 1.26\n")
	writeFile(t, filepath.Join(src, "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n")
	start = time.Now()
	runGo(t, goBin, src, env, "build", "-o", "hello", ".")
	t.Logf("hello world built with the extracted toolchain in %s", time.Since(start).Round(time.Millisecond))
	got, err := exec.Command(filepath.Join(src, "hello")).Output()
	if err != nil || string(got) != "hello\n" {
		t.Fatalf("hello printed %q, %v", got, err)
	}
}
