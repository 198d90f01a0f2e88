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

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/runconfig"
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

// --- images ----------------------------------------------------------------

// spool flattens im (under prefix) into a temporary tar file, rewound.
func (c *composer) spool(im v1.Image, prefix, what string) (*os.File, error) {
	f, err := os.CreateTemp(c.opts.TempDir, ".lkpkg-spool-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // anonymous: gone when closed
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	err = Rootfs(tw, prefix, im, c.opts.Extract)
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return f, nil
}

// image copies the flattened im into the root filesystem under prefix.
func (c *composer) image(im v1.Image, prefix, what string) error {
	f, err := c.spool(im, prefix, what)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.copyTar(f, what)
}

// copyTar copies every entry of the tar r through the bookkeeping writer.
func (c *composer) copyTar(r io.Reader, what string) error {
	tr := tar.NewReader(bufio.NewReaderSize(r, 1<<20))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: reading its tar: %w", what, err)
		}
		if err := c.add(h, tr, what); err != nil {
			return err
		}
	}
}

// kernel writes boot/kernel, boot/cmdline, boot/ucode.cpio and unpacks the
// kernel image's kernel.tar into the root.
func (c *composer) kernel(k Kernel, src ImageSource) error {
	what := "kernel.image " + k.Image
	im, err := src(k.Image)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	binary := composeOr(k.Binary, "kernel")
	ktar := composeOr(k.Tar, "kernel.tar")
	want := map[string]string{}
	for field, p := range map[string]string{"kernel.binary": binary, "kernel.tar": ktar, "kernel.ucode": k.UCode} {
		if p == "" || (field == "kernel.tar" && p == "none") {
			continue
		}
		n, err := composeClean(p)
		if err != nil || n == "" {
			return fmt.Errorf("%s: %s %q: not a path in the image", what, field, p)
		}
		want[n] = field
	}
	f, err := c.spool(im, "", what)
	if err != nil {
		return err
	}
	defer f.Close()
	found := map[string]struct {
		off, size int64
	}{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		n, _ := composeClean(h.Name)
		field, ok := want[n]
		if !ok {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("%s: %s %q is %s in the image, not a regular file", what, field, n, composeTypeName(h.Typeflag))
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		found[field] = struct{ off, size int64 }{off, h.Size}
	}
	section := func(field string) (io.Reader, int64, bool) {
		s, ok := found[field]
		if !ok {
			return nil, 0, false
		}
		return io.NewSectionReader(f, s.off, s.size), s.size, true
	}
	r, size, ok := section("kernel.binary")
	if !ok {
		return fmt.Errorf("%s: no kernel file %q in the image (set kernel.binary)", what, binary)
	}
	if err := c.add(&tar.Header{Typeflag: tar.TypeReg, Name: "boot/kernel", Mode: 0o644, Size: size, ModTime: composeEpoch}, r, what); err != nil {
		return err
	}
	if err := c.bytes("boot/cmdline", []byte(k.Cmdline), 0o644, "kernel.cmdline"); err != nil {
		return err
	}
	if k.UCode != "" {
		r, size, ok := section("kernel.ucode")
		if !ok {
			return fmt.Errorf("%s: kernel.ucode %q is not in the image", what, k.UCode)
		}
		if err := c.add(&tar.Header{Typeflag: tar.TypeReg, Name: "boot/ucode.cpio", Mode: 0o644, Size: size, ModTime: composeEpoch}, r, what); err != nil {
			return err
		}
	}
	if r, _, ok := section("kernel.tar"); ok {
		if err := c.kernelTar(r, what+" "+ktar); err != nil {
			return err
		}
	} else if k.Tar != "" && k.Tar != "none" {
		return fmt.Errorf("%s: kernel.tar %q is not in the image (use tar: none for no kernel tar)", what, k.Tar)
	}
	return nil
}

// kernelTar unpacks the kernel's tar (plain or gzip) into the root.
func (c *composer) kernelTar(r io.Reader, what string) error {
	br := bufio.NewReader(r)
	var in io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		defer gz.Close()
		in = gz
	}
	return c.copyTar(in, what)
}

func composeOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// container writes dir/config.json, dir/runtime.json and dir/rootfs/.
func (c *composer) container(what, dir string, e *ImageEntry, src ImageSource) error {
	// Binds and mounts of volumes point at the volume's merged directory.
	cfg, err := volumeConfig(what, &e.Config, c.vols)
	if err != nil {
		return err
	}
	im, err := src(e.Image)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	cf, err := im.ConfigFile()
	if err != nil {
		return fmt.Errorf("%s: image config: %w", what, err)
	}
	var label *runconfig.Config
	if v, ok := cf.Config.Labels[runconfig.Label]; ok && v != "" {
		label = &runconfig.Config{}
		if err := json.Unmarshal([]byte(v), label); err != nil {
			return fmt.Errorf("%s: label %s: %w", what, runconfig.Label, err)
		}
	}
	rootfs := dir + "/rootfs"
	f, err := c.spool(im, rootfs, what)
	if err != nil {
		return err
	}
	defer f.Close()
	var passwd, group []byte
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if h.Typeflag != tar.TypeReg || h.Size > composeMaxIDFile {
			continue
		}
		switch h.Name {
		case rootfs + "/etc/passwd":
			passwd, err = io.ReadAll(tr)
		case rootfs + "/etc/group":
			group, err = io.ReadAll(tr)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	spec, rt, err := OCISpec(what, cf.Config, label, cfg, composeLookup(passwd, group))
	if err != nil {
		return err
	}
	cfgJSON, err := SpecJSON(spec)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	rtJSON, err := json.Marshal(rt)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := c.add(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: composeEpoch}, nil, what); err != nil {
		return err
	}
	if err := c.bytes(dir+"/config.json", cfgJSON, 0o644, what); err != nil {
		return err
	}
	if err := c.bytes(dir+"/runtime.json", rtJSON, 0o644, what); err != nil {
		return err
	}
	if err := c.add(&tar.Header{Typeflag: tar.TypeDir, Name: rootfs, Mode: 0o755, ModTime: composeEpoch}, nil, what); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return c.copyTar(f, what)
}

// composeLookup resolves user and group names from passwd and group file
// contents (either may be nil: then only numeric ids work).
func composeLookup(passwd, group []byte) func(string) (uint32, uint32, error) {
	return func(n string) (uint32, uint32, error) {
		uid, pgid, uok := composeIDLine(passwd, n, 2, 3)
		gid, _, gok := composeIDLine(group, n, 2, -1)
		switch {
		case uok && gok:
			return uid, gid, nil
		case uok:
			return uid, pgid, nil
		case gok:
			return gid, gid, nil
		}
		if passwd == nil && group == nil {
			return 0, 0, errors.New("the image has no /etc/passwd or /etc/group to look names up in (use a number)")
		}
		return 0, 0, errors.New("no such user or group in the image's /etc/passwd or /etc/group")
	}
}

// composeIDLine finds name in a passwd- or group-style file and returns
// fields a and b (b < 0: not wanted) as numbers.
func composeIDLine(data []byte, name string, a, b int) (uint32, uint32, bool) {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) <= a || f[0] != name || (b >= 0 && len(f) <= b) {
			continue
		}
		x, err := strconv.ParseUint(f[a], 10, 32)
		if err != nil {
			continue
		}
		var y uint64
		if b >= 0 {
			if y, err = strconv.ParseUint(f[b], 10, 32); err != nil {
				continue
			}
		}
		return uint32(x), uint32(y), true
	}
	return 0, 0, false
}

// --- files: ------------------------------------------------------------------

func (c *composer) file(what string, f File) error {
	name, err := composeClean(f.Path)
	if err != nil || name == "" {
		return fmt.Errorf("%s: path must be inside the root filesystem", what)
	}
	lookup := composeLookup(c.passwd, c.group)
	uid, err := composeFileID(f.UID, lookup, false)
	if err != nil {
		return fmt.Errorf("%s: uid: %w", what, err)
	}
	gid, err := composeFileID(f.GID, lookup, true)
	if err != nil {
		return fmt.Errorf("%s: gid: %w", what, err)
	}
	mode := int64(0o600)
	if f.Directory {
		mode = 0o700
	}
	if f.Symlink != "" {
		mode = 0o777
	}
	if f.Mode != "" {
		m, err := strconv.ParseUint(f.Mode, 8, 32)
		if err != nil {
			return fmt.Errorf("%s: mode %q: %w", what, f.Mode, err)
		}
		mode = int64(m)
	}
	h := &tar.Header{Name: name, Mode: mode, Uid: int(uid), Gid: int(gid), ModTime: composeEpoch}
	switch {
	case f.Directory:
		h.Typeflag = tar.TypeDir
		return c.add(h, nil, what)
	case f.Symlink != "":
		h.Typeflag = tar.TypeSymlink
		h.Linkname = f.Symlink
		return c.add(h, nil, what)
	case f.Contents != nil:
		return c.fileBytes(h, []byte(*f.Contents), what)
	case f.Metadata == "yaml":
		return c.fileBytes(h, c.opts.YAML, what)
	case f.Source != "":
		return c.fileSource(h, f, what)
	}
	return fmt.Errorf("%s: nothing to write (contents, source, metadata, directory or symlink)", what)
}

func (c *composer) fileBytes(h *tar.Header, data []byte, what string) error {
	h.Typeflag = tar.TypeReg
	h.Size = int64(len(data))
	return c.add(h, bytes.NewReader(data), what)
}

func composeFileID(v any, lookup func(string) (uint32, uint32, error), group bool) (uint32, error) {
	field := "uid"
	if group {
		field = "gid"
	}
	return ociIDValue(field, v, lookup, group)
}

// fileSource copies a file, or a directory tree, from the build host.
func (c *composer) fileSource(h *tar.Header, f File, what string) error {
	p := f.Source
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("%s: source %q: %w", what, p, err)
		}
		p = filepath.Join(home, rest)
	} else if !filepath.IsAbs(p) {
		p = filepath.Join(c.opts.BaseDir, p)
	}
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && f.Optional {
			return nil
		}
		return fmt.Errorf("%s: source: %w", what, err)
	}
	if st.Mode().IsRegular() {
		return c.hostFile(h, p, st.Size(), what)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: source %s is neither a regular file nor a directory", what, p)
	}
	// A directory: the tree below it, in sorted order, with the entry's
	// mode, uid and gid on the top directory and the host's permission
	// bits (owned by the entry's uid/gid) below.
	top := h.Name
	h.Typeflag = tar.TypeDir
	if f.Mode == "" {
		h.Mode = 0o755
	}
	if err := c.add(h, nil, what); err != nil {
		return err
	}
	var names []string
	if err := filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if fp != p {
			names = append(names, fp)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("%s: source: %w", what, err)
	}
	sort.Strings(names) // WalkDir is lexical already; keep it explicit
	for _, fp := range names {
		rel, err := filepath.Rel(p, fp)
		if err != nil {
			return err
		}
		st, err := os.Lstat(fp)
		if err != nil {
			return fmt.Errorf("%s: source: %w", what, err)
		}
		eh := &tar.Header{Name: top + "/" + filepath.ToSlash(rel), Mode: int64(st.Mode().Perm()), Uid: h.Uid, Gid: h.Gid, ModTime: composeEpoch}
		switch {
		case st.Mode().IsRegular():
			if err := c.hostFile(eh, fp, st.Size(), what); err != nil {
				return err
			}
		case st.IsDir():
			eh.Typeflag = tar.TypeDir
			if err := c.add(eh, nil, what); err != nil {
				return err
			}
		case st.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(fp)
			if err != nil {
				return fmt.Errorf("%s: source: %w", what, err)
			}
			eh.Typeflag = tar.TypeSymlink
			eh.Linkname = target
			eh.Mode = 0o777
			if err := c.add(eh, nil, what); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: source %s: special files are not copied", what, fp)
		}
	}
	return nil
}

func (c *composer) hostFile(h *tar.Header, p string, size int64, what string) error {
	fh, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("%s: source: %w", what, err)
	}
	defer fh.Close()
	h.Typeflag = tar.TypeReg
	h.Size = size
	// A file that changes size while being read fails the copy.
	return c.add(h, io.LimitReader(fh, size), what)
}
