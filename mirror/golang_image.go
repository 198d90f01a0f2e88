package mirror

import (
	"archive/tar"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/lkpkg/lkpkg/mirror/gomod"
)

// GoProxyDir is where the module closure sits in the image.
const GoProxyDir = RepoDir + "/goproxy"

// goLayers are the Go section's layers for one arch and the environment
// that makes the go command use them with the network off.
func goLayers(c *Config, l *GoLock, fetched FetchedGo, goarch string, epoch time.Time, tmp *tempLayers) ([]namedLayer, []string, error) {
	var out []namedLayer
	env := []string{"GOTOOLCHAIN=local"}
	if c.Go.Toolchain != "" {
		m, ok := l.toolchain(goarch)
		if !ok {
			return nil, nil, fmt.Errorf("go toolchain for %s is not locked", goarch)
		}
		files := fetched[m.Path+"@"+m.Version]
		layer, err := tmp.gzipLayer(gzip.DefaultCompression, func(w io.Writer) error {
			return gomod.WriteToolchainTar(w, files.Zip, GOROOT[1:], epoch)
		})
		if err != nil {
			return nil, nil, fmt.Errorf("go toolchain %s: %w", m.Version, err)
		}
		out = append(out, namedLayer{layer, "Go toolchain " + c.Go.Toolchain + " at " + GOROOT})
		if !c.HasAlpine() && (c.Debian == nil || !c.Debian.Installs()) {
			// Alone, the toolchain needs somewhere to link and cache.
			layer, err := tmp.gzipLayer(gzip.DefaultCompression, func(w io.Writer) error {
				tw := tar.NewWriter(w)
				if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Mode: 0o1777, Typeflag: tar.TypeDir, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
					return err
				}
				return tw.Close()
			})
			if err != nil {
				return nil, nil, err
			}
			out = append(out, namedLayer{layer, "/tmp"})
		}
	}
	if len(l.Modules) > 0 {
		var mods []gomod.Module
		files := map[string]gomod.Files{}
		for _, m := range l.Modules {
			mods = append(mods, m.module())
			files[m.Path+"@"+m.Version] = fetched[m.Path+"@"+m.Version]
		}
		layer, err := tmp.gzipLayer(gzip.DefaultCompression, func(w io.Writer) error {
			return gomod.WriteProxyTar(w, mods, files, GoProxyDir[1:], epoch)
		})
		if err != nil {
			return nil, nil, fmt.Errorf("go modules: %w", err)
		}
		out = append(out, namedLayer{layer, fmt.Sprintf("%d Go modules at %s", len(mods), GoProxyDir)})
		// Builds run with the network off: the tree was checked against
		// the checksum database when fetched, and the go.sum of the module
		// being built is still enforced.
		env = append(env, "GOPROXY=file://"+GoProxyDir, "GOSUMDB=off")
	} else {
		env = append(env, "GOPROXY=off")
	}
	return out, env, nil
}
