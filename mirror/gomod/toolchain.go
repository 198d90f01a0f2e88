package gomod

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/module"
)

// ToolchainPath is the module that serves Go toolchains.
const ToolchainPath = "golang.org/toolchain"

var goReleaseRE = regexp.MustCompile(`^go1\.([0-9]+)(\.[0-9]+)?((rc|beta)[0-9]+)?$`)
var goarchRE = regexp.MustCompile(`^[a-z0-9]+$`)

// ToolchainModule names the module holding the linux/goarch build of the Go
// release goVersion, as the go command does for GOTOOLCHAIN switches:
// ToolchainModule("go1.26.8", "amd64") is golang.org/toolchain at
// v0.0.1-go1.26.8.linux-amd64.
func ToolchainModule(goVersion, goarch string) (path, version string, err error) {
	sub := goReleaseRE.FindStringSubmatch(goVersion)
	if sub == nil {
		return "", "", fmt.Errorf("toolchain %q: want a Go release such as go1.26.8", goVersion)
	}
	// Releases have been published as modules since Go 1.21, whose first
	// release is go1.21.0: go1.21 is a language version, not a release.
	minor, _ := strconv.Atoi(sub[1])
	if minor < 21 {
		return "", "", fmt.Errorf("toolchain %q: toolchain modules exist from go1.21.0 on", goVersion)
	}
	if sub[2] == "" && sub[3] == "" {
		return "", "", fmt.Errorf("toolchain %q is a language version: name a release such as %s.0", goVersion, goVersion)
	}
	if !goarchRE.MatchString(goarch) {
		return "", "", fmt.Errorf("toolchain GOARCH %q is not a GOARCH", goarch)
	}
	version = "v0.0.1-" + goVersion + ".linux-" + goarch
	if err := module.Check(ToolchainPath, version); err != nil {
		return "", "", err
	}
	return ToolchainPath, version, nil
}

// WriteToolchainTar writes the files of a toolchain module zip as a
// reproducible tar under prefix (e.g. "usr/local/go"), without the zip's
// golang.org/toolchain@VERSION/ prefix, so the tree is a GOROOT.
//
// Modes come from the zip (the official zips mark bin/, pkg/tool/ and
// scripts 0755 and the rest 0644); like the go command after it unzips a
// toolchain, files in bin/ and pkg/tool/ and lib's go_*_*_exec wrappers
// are made executable whatever the zip says. A module zip cannot hold
// go.mod files below its root, so the toolchain zip has _go.mod instead;
// like the go command, the tar has a go.mod copy beside each (without
// GOROOT/src/go.mod, std's vendored packages do not resolve).
func WriteToolchainTar(w io.Writer, zipPath, prefix string, epoch time.Time) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	root, err := toolchainRoot(zr.File)
	if err != nil {
		return fmt.Errorf("%s: %w", zipPath, err)
	}
	var files []tarFile
	for _, zf := range zr.File {
		name := strings.TrimPrefix(zf.Name, root)
		if strings.HasSuffix(name, "/") {
			continue // directories come from the files' paths
		}
		if err := module.CheckFilePath(name); err != nil || zf.Name == name {
			return fmt.Errorf("%s: bad file name %q", zipPath, zf.Name)
		}
		if !zf.Mode().IsRegular() {
			return fmt.Errorf("%s: %s is not a regular file (%v)", zipPath, zf.Name, zf.Mode())
		}
		f := tarFile{name: name, mode: toolchainMode(name, zf.Mode().Perm()), size: int64(zf.UncompressedSize64), open: zf.Open}
		files = append(files, f)
		if path.Base(name) == "_go.mod" {
			f.name = path.Join(path.Dir(name), "go.mod")
			files = append(files, f)
		}
	}
	return writeTar(w, prefix, files, epoch)
}

// toolchainRoot returns the zip's "golang.org/toolchain@VERSION/" prefix,
// checking that every file has it.
func toolchainRoot(files []*zip.File) (string, error) {
	if len(files) == 0 {
		return "", fmt.Errorf("empty zip")
	}
	// The module path has a slash too: the root ends at the slash after "@".
	first := files[0].Name
	rest, ok := strings.CutPrefix(first, ToolchainPath+"@")
	version, _, found := strings.Cut(rest, "/")
	if !ok || !found {
		return "", fmt.Errorf("file %q is not below %s@VERSION/", first, ToolchainPath)
	}
	if err := module.Check(ToolchainPath, version); err != nil {
		return "", err
	}
	root := ToolchainPath + "@" + version + "/"
	for _, f := range files {
		if !strings.HasPrefix(f.Name, root) {
			return "", fmt.Errorf("file %q is not below %s", f.Name, root)
		}
	}
	return root, nil
}

// toolchainMode is 0755 for what the go command would make executable
// (cmd/go/internal/toolchain: allowExec) or the zip marks executable, else
// 0644: other bits (setuid, group/world write) are never carried over.
func toolchainMode(name string, perm fs.FileMode) int64 {
	exec := perm&0o111 != 0 ||
		strings.HasPrefix(name, "bin/") ||
		strings.HasPrefix(name, "pkg/tool/")
	if strings.HasPrefix(name, "lib/") {
		if ok, _ := path.Match("go_?*_?*_exec", path.Base(name)); ok {
			exec = true
		}
	}
	if exec {
		return 0o755
	}
	return 0o644
}
