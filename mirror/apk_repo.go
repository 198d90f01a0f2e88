package mirror

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lkpkg/lkpkg/mirror/apksign"
)

// indexEntry renders one APKINDEX record from a verified package's
// .PKGINFO, as `apk index` does.
func indexEntry(p LockedPackage, fields map[string][]string, size int64) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s:%s\n", k, v)
		}
	}
	line("C", p.Checksum)
	line("P", p.Name)
	line("V", p.Version)
	line("A", p.Arch) // as `apk index --rewrite-arch`: noarch packages are listed under the repository's arch
	line("S", fmt.Sprint(size))
	line("I", first(fields["size"]))
	line("T", first(fields["pkgdesc"]))
	line("U", first(fields["url"]))
	line("L", first(fields["license"]))
	line("o", first(fields["origin"]))
	line("m", first(fields["maintainer"]))
	line("t", first(fields["builddate"]))
	line("c", first(fields["commit"]))
	line("k", first(fields["provider_priority"]))
	line("D", strings.Join(fields["depend"], " "))
	line("p", strings.Join(fields["provides"], " "))
	line("i", strings.Join(fields["install_if"], " "))
	return b.String()
}

// repoFile is one file of the offline repository.
type repoFile struct {
	name string // below the repository's arch directory
	path string // on disk ("" when data is set)
	data []byte
	mode int64
}

// repository lists the files of the offline repository for one arch:
// every locked package and an APKINDEX.tar.gz signed by the mirror's key.
func repository(arch string, pkgs []LockedPackage, fetched Fetched, keys *apksign.Keyring, signer *apksign.Signer, description string) ([]repoFile, error) {
	sorted := append([]LockedPackage(nil), pkgs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var index bytes.Buffer
	files := make([]repoFile, 0, len(sorted)+1)
	for _, p := range sorted {
		path, ok := fetched[p.Checksum]
		if !ok {
			return nil, fmt.Errorf("%s-%s (%s) was not fetched: run `lkpkg mirror fetch`", p.Name, p.Version, arch)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		info, err := apksign.VerifyPackage(f, keys, p.Checksum)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s-%s: %w", p.Name, p.Version, err)
		}
		index.WriteString(indexEntry(p, info.Fields, p.Size))
		index.WriteString("\n")
		files = append(files, repoFile{name: p.Filename(), path: path, mode: 0o644})
	}
	var signed bytes.Buffer
	if err := signer.WriteIndex(&signed, index.Bytes(), description); err != nil {
		return nil, err
	}
	files = append(files, repoFile{name: "APKINDEX.tar.gz", data: signed.Bytes(), mode: 0o644})
	return files, nil
}

// repoLayer is a deterministic gzip'd tar of the repository for arch,
// the mirror key and the repositories file.
func repoLayer(arch string, files []repoFile, keyName string, pub []byte, epoch time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	hdr := func(name string, mode int64, size int64, typ byte) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Size: size, Typeflag: typ, ModTime: epoch, Format: tar.FormatPAX, Uname: "root", Gname: "root"}
	}
	root := RepoDir[1:]
	for _, d := range []string{root + "/", root + "/" + arch + "/"} {
		if err := tw.WriteHeader(hdr(d, 0o755, 0, tar.TypeDir)); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		data := f.data
		if data == nil {
			if data, err = os.ReadFile(f.path); err != nil {
				return nil, err
			}
		}
		if err := tw.WriteHeader(hdr(root+"/"+arch+"/"+f.name, f.mode, int64(len(data)), tar.TypeReg)); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	extra := []struct {
		name string
		data []byte
	}{
		{"etc/apk/keys/" + keyName, pub},
		{"etc/apk/repositories", []byte(RepoDir + "\n")},
	}
	for _, e := range extra {
		if err := tw.WriteHeader(hdr(e.name, 0o644, int64(len(e.data)), tar.TypeReg)); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, tarball.WithMediaType(types.OCILayer))
}
