package assemble

// Compose: the root filesystem of an image YAML as one deterministic tar
// stream, laid out as `linuxkit build` lays it out:
//
//	boot/kernel, boot/cmdline, boot/ucode.cpio   from the kernel image
//	/ ...                                        kernel.tar, then the init images, in order
//	containers/volumes/NAME/{lower/,tmp/,merged/} volumes: (see volume.go)
//	containers/onboot/NNN-NAME/{config.json,runtime.json,rootfs/}
//	containers/onshutdown/NNN-NAME/...
//	containers/services/NAME/...
//	files:                                       last
//
// Later entries win over earlier ones of the same name (a file replaces a
// file or symlink; a directory's metadata is updated), but the composer
// keeps its own record of every name written across all images, and
// refuses an entry placed below a symlink or a non-directory written
// before (by any image), a hard link to anything but a regular file
// already written, and a directory replaced by a non-directory or the
// reverse. So no image can write through another image's symlink when the
// tar is unpacked. Directories an entry needs that nothing declared are
// written as 0755 root:root, mtime 0.
//
// This file is the driver and the bookkeeping writer; the kernel, init
// images and containers are in compose_images.go (flattened by package
// layer, configs by package ociruntime), the files: section in
// compose_files.go, volumes in volume.go.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ImageSource returns the image (for the build's platform) that ref names.
// The builder's source resolves refs to their locked, verified digests.
type ImageSource func(ref string) (v1.Image, error)

// ComposeOptions are the inputs of Compose besides the image YAML.
type ComposeOptions struct {
	// YAML is the image YAML document, written by `metadata: yaml` files.
	YAML []byte
	// BaseDir is the directory relative `source:` paths are taken from (the
	// YAML file's directory).
	BaseDir string
	// TempDir holds spool files (default os.TempDir()).
	TempDir string
	// Extract tunes the flattening of every image.
	Extract ExtractOptions
	// IndexSource gives the image index of a volume with `format: oci`
	// (see IndexSource). Without it such a volume is an error; no other
	// part of Compose uses it.
	IndexSource IndexSource
}

// composeEpoch is the mtime of every entry Compose makes itself.
var composeEpoch = time.Unix(0, 0)

// composeMaxIDFile bounds /etc/passwd and /etc/group, read into memory.
const composeMaxIDFile = 4 << 20

// Compose writes the root filesystem of img as a tar stream to w. The
// stream depends only on img, the images src returns and the files named
// by `source:`: the same inputs give the same bytes. On error, what was
// written to w is invalid.
func Compose(w io.Writer, img *Image, src ImageSource, opts ComposeOptions) error {
	vols, err := volumeCheck(img.Volumes)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	c := &composer{tw: tar.NewWriter(bw), nodes: map[string]composeNode{}, opts: opts, vols: vols}
	if err := c.compose(img, src); err != nil {
		return err
	}
	if err := c.tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

type composeNode struct {
	typ    byte   // tar typeflag (regular files as tar.TypeReg)
	source string // what wrote it, for error messages
}

type composer struct {
	tw    *tar.Writer
	nodes map[string]composeNode
	opts  ComposeOptions
	vols  map[string]*Volume // volumes: by name
	// the root's /etc/passwd and /etc/group as last written, for files:
	passwd, group []byte
}

func (c *composer) compose(img *Image, src ImageSource) error {
	if img.Kernel.Image != "" {
		if err := c.kernel(img.Kernel, src); err != nil {
			return err
		}
	} else if img.Kernel.Cmdline != "" {
		if err := c.bytes("boot/cmdline", []byte(img.Kernel.Cmdline), 0o644, "kernel.cmdline"); err != nil {
			return err
		}
	}
	for i, ref := range img.Init {
		what := fmt.Sprintf("init[%d] %s", i, ref)
		im, err := src(ref)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := c.image(im, "", what); err != nil {
			return err
		}
	}
	// Volumes after init and before the containers, as LinuxKit.
	for i := range img.Volumes {
		if err := c.volume(i, &img.Volumes[i], src); err != nil {
			return err
		}
	}
	for _, sec := range []struct {
		key      string
		list     []ImageEntry
		numbered bool
	}{{"onboot", img.Onboot, true}, {"onshutdown", img.Onshutdown, true}, {"services", img.Services, false}} {
		for i := range sec.list {
			e := &sec.list[i]
			dir := "containers/" + sec.key + "/" + e.Name
			if sec.numbered {
				dir = fmt.Sprintf("containers/%s/%03d-%s", sec.key, i, e.Name)
			}
			if err := c.container(fmt.Sprintf("%s[%d] %q (%s)", sec.key, i, e.Name, e.Image), dir, e, src); err != nil {
				return err
			}
		}
	}
	for i, f := range img.Files {
		if err := c.file(fmt.Sprintf("files[%d] %q", i, f.Path), f); err != nil {
			return err
		}
	}
	return nil
}

// --- the bookkeeping writer ------------------------------------------------

func composeClean(name string) (string, error) {
	n := path.Clean("/" + strings.TrimLeft(name, "/"))
	n = strings.TrimPrefix(n, "/")
	if n == "" || n == "." {
		return "", nil
	}
	if n == ".." || strings.HasPrefix(n, "../") {
		return "", fmt.Errorf("%q escapes the root", name)
	}
	return n, nil
}

func composeTypeName(t byte) string {
	switch t {
	case tar.TypeDir:
		return "a directory"
	case tar.TypeSymlink:
		return "a symlink"
	case tar.TypeReg:
		return "a file"
	case tar.TypeLink:
		return "a hard link"
	}
	return "a special file"
}

// ensureDirs checks every parent of name and writes the missing ones.
func (c *composer) ensureDirs(name, source string) error {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		d := strings.Join(parts[:i], "/")
		n, ok := c.nodes[d]
		if ok {
			switch n.typ {
			case tar.TypeDir:
				continue
			case tar.TypeSymlink:
				return fmt.Errorf("%s: %q would be written through the symlink %q (from %s): %w", source, name, d, n.source, ErrThroughSymlink)
			default:
				return fmt.Errorf("%s: %q: parent %q is %s (from %s): %w", source, name, d, composeTypeName(n.typ), n.source, ErrNotDir)
			}
		}
		h := &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: composeEpoch, Format: tar.FormatPAX}
		if err := c.tw.WriteHeader(h); err != nil {
			return err
		}
		c.nodes[d] = composeNode{typ: tar.TypeDir, source: source}
	}
	return nil
}

// add writes one entry (h.Name and h.Linkname relative to the root),
// reading a regular file's data from r.
func (c *composer) add(in *tar.Header, r io.Reader, source string) error {
	name, err := composeClean(in.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if name == "" {
		return nil // the root itself
	}
	typ := in.Typeflag
	if typ == tar.TypeRegA {
		typ = tar.TypeReg
	}
	switch typ {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("%s: %q: unsupported tar entry type %q: %w", source, in.Name, in.Typeflag, ErrUnsupportedEntry)
	}
	if err := c.ensureDirs(name, source); err != nil {
		return err
	}
	if old, ok := c.nodes[name]; ok {
		if typ == tar.TypeDir && old.typ == tar.TypeSymlink {
			return fmt.Errorf("%s: directory %q would be written through the symlink %q (from %s): %w", source, name, name, old.source, ErrThroughSymlink)
		}
		if typ == tar.TypeDir && old.typ != tar.TypeDir {
			return fmt.Errorf("%s: directory %q: %s already wrote %s there: %w", source, name, old.source, composeTypeName(old.typ), ErrNotDir)
		}
		if (old.typ == tar.TypeDir) != (typ == tar.TypeDir) {
			return fmt.Errorf("%s: %q is %s, but %s already wrote %s there (lkpkg does not replace directories with non-directories or the reverse)",
				source, name, composeTypeName(typ), old.source, composeTypeName(old.typ))
		}
	}
	h := &tar.Header{
		Typeflag: typ, Name: name, Mode: in.Mode, Uid: in.Uid, Gid: in.Gid, Uname: in.Uname, Gname: in.Gname,
		ModTime: in.ModTime, Devmajor: in.Devmajor, Devminor: in.Devminor, Format: tar.FormatPAX,
	}
	for k, v := range in.PAXRecords {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			if h.PAXRecords == nil {
				h.PAXRecords = map[string]string{}
			}
			h.PAXRecords[k] = v
		}
	}
	switch typ {
	case tar.TypeDir:
		h.Name += "/"
	case tar.TypeReg:
		h.Size = in.Size
	case tar.TypeSymlink:
		h.Linkname = in.Linkname
	case tar.TypeLink:
		target, err := composeClean(in.Linkname)
		if err != nil || target == "" {
			return fmt.Errorf("%s: hard link %q -> %q: %w", source, name, in.Linkname, ErrBadHardlink)
		}
		if n, ok := c.nodes[target]; !ok || n.typ != tar.TypeReg {
			return fmt.Errorf("%s: hard link %q -> %q: the target is not a regular file written before: %w", source, name, in.Linkname, ErrBadHardlink)
		}
		h.Linkname = target
	}
	if err := c.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("%s: %q: %w", source, name, err)
	}
	if typ == tar.TypeReg && h.Size > 0 {
		data := r
		var buf *bytes.Buffer
		if (name == "etc/passwd" || name == "etc/group") && h.Size <= composeMaxIDFile {
			buf = &bytes.Buffer{}
			data = io.TeeReader(r, buf)
		}
		if _, err := io.CopyN(c.tw, data, h.Size); err != nil {
			return fmt.Errorf("%s: %q: %w", source, name, err)
		}
		c.remember(name, buf)
	} else if typ == tar.TypeReg {
		c.remember(name, &bytes.Buffer{})
	}
	rec := typ
	if typ == tar.TypeLink {
		rec = tar.TypeReg
	}
	c.nodes[name] = composeNode{typ: rec, source: source}
	return nil
}

func (c *composer) remember(name string, buf *bytes.Buffer) {
	switch {
	case name == "etc/passwd" && buf != nil:
		c.passwd = buf.Bytes()
	case name == "etc/group" && buf != nil:
		c.group = buf.Bytes()
	}
}

// bytes writes a regular file made by the composer.
func (c *composer) bytes(name string, data []byte, mode int64, source string) error {
	h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: composeEpoch}
	return c.add(h, bytes.NewReader(data), source)
}
