package gomod

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/mod/semver"
)

// WriteProxyTar writes a reproducible tar of a GOPROXY tree under prefix,
// for GOPROXY=file:///PREFIX: per module ESCAPED_PATH/@v/list and per
// version VERSION.info, VERSION.mod and, unless it is go.mod-only,
// VERSION.zip. files maps path@version to what Download returned.
//
// @v/list lists only versions with a zip, so a query (@latest) never picks
// one that cannot be built. The .info files are rewritten to just Version
// and Time: proxies may add fields (such as Origin) over time, and the
// tree must not depend on when its files were fetched. The .mod files are
// checked against GoModSum once more; zips are copied as verified by
// Download (hashing them all again would double the time).
func WriteProxyTar(w io.Writer, mods []Module, files map[string]Files, prefix string, epoch time.Time) error {
	type version struct {
		m Module
		f Files
	}
	byPath := map[string][]version{}
	seen := map[string]Module{}
	for _, m := range mods {
		key := m.String()
		if prev, ok := seen[key]; ok {
			if prev != m {
				return fmt.Errorf("%s listed twice with different hashes", key)
			}
			continue
		}
		seen[key] = m
		f, ok := files[key]
		if !ok {
			return fmt.Errorf("%s: no downloaded files", key)
		}
		if m.Sum != "" && f.Zip == "" {
			return fmt.Errorf("%s: no downloaded zip", key)
		}
		byPath[m.Path] = append(byPath[m.Path], version{m, f})
	}

	var out []tarFile
	for path, versions := range byPath {
		epath, _, err := escaped(path, versions[0].m.Version)
		if err != nil {
			return err
		}
		var list []string
		for _, v := range versions {
			_, ever, err := escaped(path, v.m.Version)
			if err != nil {
				return err
			}
			base := epath + "/@v/" + ever
			i, err := readInfo(v.m, v.f.Info)
			if err != nil {
				return err
			}
			// The proxy's commit time is neither locked nor verified: the
			// tree states the epoch instead, so it depends only on the lock.
			i.Time = epoch
			out = append(out, memFile(base+".info", canonicalInfo(i)))
			mod, err := os.ReadFile(v.f.Mod)
			if err != nil {
				return err
			}
			if got, err := goModHash(mod); err != nil || got != v.m.GoModSum {
				return mismatch(v.m, "go.mod", v.m.GoModSum, got)
			}
			out = append(out, memFile(base+".mod", mod))
			if v.m.Sum != "" {
				zf, err := diskFile(base+".zip", v.f.Zip)
				if err != nil {
					return err
				}
				out = append(out, zf)
				list = append(list, v.m.Version)
			}
		}
		semver.Sort(list)
		var buf bytes.Buffer
		for _, v := range list {
			buf.WriteString(v + "\n")
		}
		out = append(out, memFile(epath+"/@v/list", buf.Bytes()))
	}
	return writeTar(w, prefix, out, epoch)
}

// canonicalInfo is the .info the go command needs, always encoded alike.
func canonicalInfo(i info) []byte {
	b, _ := json.Marshal(struct {
		Version string
		Time    string
	}{i.Version, i.Time.UTC().Format(time.RFC3339)})
	return append(b, '\n')
}

func memFile(name string, data []byte) tarFile {
	return tarFile{name: name, mode: 0o644, size: int64(len(data)), open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}

func diskFile(name, path string) (tarFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return tarFile{}, err
	}
	return tarFile{name: name, mode: 0o644, size: fi.Size(), open: func() (io.ReadCloser, error) { return os.Open(path) }}, nil
}
