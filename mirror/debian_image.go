package mirror

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/lkpkg/lkpkg/mirror/debfile"
	"github.com/lkpkg/lkpkg/mirror/rootfs"
)

// dpkgArch maps a GOARCH to the dpkg arch.
func dpkgArch(goarch string) string {
	for d, g := range debArches {
		if g == goarch {
			return d
		}
	}
	return ""
}

// debianLayers are the Debian section's layers for one arch: the installed
// root filesystem (unless install: false) and the .deb files themselves,
// so the image keeps the bytes the lock pins after upstream moves on.
func debianLayers(c *Config, l *DebianLock, debs FetchedDebs, goarch string, epoch time.Time, tmp *tempLayers) ([]namedLayer, error) {
	arch := dpkgArch(goarch)
	pkgs := append([]LockedDeb(nil), l.Packages[arch]...)
	sortDebs(pkgs)
	var files []string
	for _, p := range pkgs {
		f, ok := debs[p.SHA256]
		if !ok {
			return nil, fmt.Errorf("debian %s: %s was not fetched", arch, p)
		}
		files = append(files, f)
	}
	var out []namedLayer
	if c.Debian.Installs() {
		var res *rootfs.Result
		layer, err := tmp.gzipLayer(gzip.DefaultCompression, func(w io.Writer) error {
			var err error
			res, err = rootfs.Install(w, files, rootfs.Options{Arch: arch, SourceDateEpoch: epoch})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("debian %s: installing: %w", arch, err)
		}
		out = append(out, namedLayer{layer, fmt.Sprintf("root filesystem of %d Debian packages", len(res.Packages))})
	}
	// The .debs are compressed already: the fastest level only frames them.
	layer, err := tmp.gzipLayer(gzip.BestSpeed, func(w io.Writer) error {
		return writeDebRepo(w, pkgs, files, epoch)
	})
	if err != nil {
		return nil, fmt.Errorf("debian %s: repository: %w", arch, err)
	}
	return append(out, namedLayer{layer, "Debian packages " + RepoDir + "/debian"}), nil
}

// writeDebRepo writes RepoDir/debian/FILENAME for every package and a
// Packages index (each control stanza plus Filename, Size and SHA256), so
// the repository can also serve apt as `deb [trusted=yes] file:/mirror/debian ./`.
func writeDebRepo(w io.Writer, pkgs []LockedDeb, files []string, epoch time.Time) error {
	tw := tar.NewWriter(w)
	root := RepoDir[1:] + "/debian/"
	dirs := map[string]bool{}
	hdr := func(name string, mode, size int64, typ byte) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Size: size, Typeflag: typ, ModTime: epoch, Format: tar.FormatPAX, Uname: "root", Gname: "root"}
	}
	mkdirs := func(p string) error {
		var chain []string
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			chain = append(chain, d)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			if !dirs[chain[i]] {
				dirs[chain[i]] = true
				if err := tw.WriteHeader(hdr(chain[i]+"/", 0o755, 0, tar.TypeDir)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	order := make([]int, len(pkgs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return pkgs[order[a]].Filename < pkgs[order[b]].Filename })
	var index bytes.Buffer
	for _, i := range order {
		p, file := pkgs[i], files[i]
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		d, err := debfile.Open(f, st.Size())
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", p, err)
		}
		index.Write(bytes.TrimRight(d.Control, "\n"))
		fmt.Fprintf(&index, "\nFilename: %s\nSize: %d\nSHA256: %s\n\n", p.Filename, p.Size, p.SHA256)
		name := root + p.Filename
		if err := mkdirs(name); err != nil {
			f.Close()
			return err
		}
		if err := tw.WriteHeader(hdr(name, 0o644, st.Size(), tar.TypeReg)); err != nil {
			f.Close()
			return err
		}
		if _, err := io.Copy(tw, io.NewSectionReader(f, 0, st.Size())); err != nil {
			f.Close()
			return err
		}
		f.Close()
	}
	if err := mkdirs(root + "Packages"); err != nil {
		return err
	}
	if err := tw.WriteHeader(hdr(root+"Packages", 0o644, int64(index.Len()), tar.TypeReg)); err != nil {
		return err
	}
	if _, err := tw.Write(index.Bytes()); err != nil {
		return err
	}
	return tw.Close()
}
