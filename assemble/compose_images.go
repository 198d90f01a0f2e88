package assemble

// Compose's images: the kernel, init images and the onboot, onshutdown
// and service containers, each flattened (layer.WriteTar) into the root
// filesystem with its OCI runtime config.

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/assemble/ociruntime"
	"github.com/lkpkg/lkpkg/assemble/output"
	"github.com/lkpkg/lkpkg/runconfig"
)

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
	return output.EachEntry(bufio.NewReaderSize(r, 1<<20), what+": reading its tar", func(h *tar.Header, data io.Reader) error {
		return c.add(h, data, what)
	})
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
	if err := output.EachEntry(f, what, func(h *tar.Header, _ io.Reader) error {
		n, _ := composeClean(h.Name)
		field, ok := want[n]
		if !ok {
			return nil
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("%s: %s %q is %s in the image, not a regular file", what, field, n, composeTypeName(h.Typeflag))
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		found[field] = struct{ off, size int64 }{off, h.Size}
		return nil
	}); err != nil {
		return err
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
	if err := output.EachEntry(f, what, func(h *tar.Header, r io.Reader) error {
		if h.Typeflag != tar.TypeReg || h.Size > composeMaxIDFile {
			return nil
		}
		var err error
		switch h.Name {
		case rootfs + "/etc/passwd":
			passwd, err = io.ReadAll(r)
		case rootfs + "/etc/group":
			group, err = io.ReadAll(r)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}); err != nil {
		return err
	}
	spec, rt, err := ociruntime.Spec(what, cf.Config, label, cfg, composeLookup(passwd, group))
	if err != nil {
		return err
	}
	cfgJSON, err := ociruntime.JSON(spec)
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
