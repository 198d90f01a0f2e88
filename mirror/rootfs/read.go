package rootfs

import (
	"archive/tar"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lkpkg/lkpkg/mirror/debfile"
)

// pkg is one package as read from its .deb.
type pkg struct {
	name, version, arch string
	file                string // the .deb it was read from, for errors
	multiArchSame       bool
	fields              map[string]string
	order               []string
	scripts             map[string][]byte
	replaces            []relation

	// entries are the data.tar entries in archive order, except the root.
	entries []*entry
	// conffiles maps each conffile (absolute, as shipped) to the MD5 of
	// its shipped content, which dpkg records in the status file.
	conffiles     map[string]string
	conffileOrder []string
	// lost holds the shipped paths whose file another package took over
	// (Replaces), which dpkg drops from this package's file list.
	lost map[string]bool
}

// entry is one file, directory or symlink bound for the root.
type entry struct {
	path     string // where it lands, relative to the root: "usr/bin/sh"
	orig     string // as shipped, absolute: "/bin/sh"; what dpkg's .list records
	typ      byte   // tar.TypeDir, tar.TypeReg or tar.TypeSymlink
	mode     int64
	uid, gid int
	mtime    time.Time
	link     string // symlink target
	blob     *blob  // regular file content; shared by hard links
	pkg      *pkg   // nil for entries debroot makes itself
}

// id names a package the way dpkg's file names do: "libc6:amd64" for
// Multi-Arch: same packages, which can be installed for several
// architectures at once, plain "dash" otherwise.
func (p *pkg) id() string {
	if p.multiArchSame {
		return p.name + ":" + p.arch
	}
	return p.name
}

// where names the package and its .deb for error messages: the .deb is
// usually a cache blob (…/sha256/<hex>) that says nothing by itself.
func (p *pkg) where() string {
	return fmt.Sprintf("package %s %s (the .deb at %s)", p.name, p.version, p.file)
}

// readDeb reads the .deb at file, storing its files' contents in sp. It
// refuses a package whose Package, Version or Architecture is malformed:
// they name its files in the dpkg database (info/NAME:ARCH.list), where a
// "/" or ".." would put them outside it.
func readDeb(file string, sp *spool) (*pkg, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	d, err := debfile.Open(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("the .deb at %s: %w", file, err)
	}
	if err := d.CheckIdentity(); err != nil {
		return nil, fmt.Errorf("the .deb at %s: refusing it: %w", file, err)
	}
	p := &pkg{
		name: d.Fields["Package"], version: d.Fields["Version"], arch: d.Fields["Architecture"],
		file:          file,
		multiArchSame: d.Fields["Multi-Arch"] == "same",
		fields:        d.Fields, order: d.FieldOrder, scripts: d.Scripts,
		conffiles: map[string]string{}, lost: map[string]bool{},
	}
	if p.replaces, err = parseRelations(d.Fields["Replaces"]); err != nil {
		return nil, fmt.Errorf("%s: Replaces: %w", p.where(), err)
	}
	for _, line := range strings.Split(string(d.Scripts["conffiles"]), "\n") {
		// Lines are "/etc/x", or "remove-on-upgrade /etc/x" for a
		// conffile the package no longer ships.
		if f := strings.Fields(line); len(f) == 1 {
			p.conffiles[f[0]] = ""
			p.conffileOrder = append(p.conffileOrder, f[0])
		}
	}
	if err := p.readData(d, sp); err != nil {
		return nil, fmt.Errorf("%s: %w", p.where(), err)
	}
	return p, nil
}

// readData reads the data member into p.entries.
func (p *pkg) readData(d *debfile.Deb, sp *spool) error {
	tr, closer, err := d.Data()
	if err != nil {
		return err
	}
	defer closer.Close()
	regular := map[string]*entry{} // by shipped path, for hard links
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d.DataMember, err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue // pax metadata for the archive, not a file
		}
		orig, err := cleanName(h.Name)
		if err != nil {
			return err
		}
		if orig == "/" {
			continue
		}
		e := &entry{
			path: usrMerged(orig), orig: orig, typ: h.Typeflag,
			mode: h.Mode & 0o7777, uid: h.Uid, gid: h.Gid, mtime: h.ModTime, pkg: p,
		}
		if top, moved := movedTop(orig); moved && orig == "/"+top && e.typ != tar.TypeDir {
			return fmt.Errorf("%s: ships /%s as a non-directory, which merged /usr makes a symlink", h.Name, top)
		}
		switch h.Typeflag {
		case tar.TypeDir:
		case tar.TypeReg:
			if e.blob, err = sp.store(tr, h.Size); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			if _, ok := p.conffiles[orig]; ok {
				sum := md5.New()
				if _, err := io.Copy(sum, sp.reader(e.blob)); err != nil {
					return err
				}
				p.conffiles[orig] = hex.EncodeToString(sum.Sum(nil))
			}
			regular[orig] = e
		case tar.TypeSymlink:
			if h.Linkname == "" || strings.ContainsRune(h.Linkname, 0) {
				return fmt.Errorf("%s: bad symlink target %q", h.Name, h.Linkname)
			}
			e.link = retarget(orig, h.Linkname)
		case tar.TypeLink:
			// A hard link is another name for a file shipped earlier in
			// the same archive: it shares that file's blob (its inode).
			target, err := cleanName(h.Linkname)
			if err != nil {
				return fmt.Errorf("%s: hard link: %w", h.Name, err)
			}
			t, ok := regular[target]
			if !ok {
				return fmt.Errorf("%s: hard link to %s, which is not a regular file earlier in the package", h.Name, h.Linkname)
			}
			e.typ, e.blob, e.mode, e.uid, e.gid, e.mtime = tar.TypeReg, t.blob, t.mode, t.uid, t.gid, t.mtime
			regular[orig] = e
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return fmt.Errorf("%s: refusing device node or FIFO (tar type %q): Debian packages do not ship them", h.Name, h.Typeflag)
		default:
			return fmt.Errorf("%s: unsupported tar entry type %q", h.Name, h.Typeflag)
		}
		p.entries = append(p.entries, e)
	}
}
