package layer

import (
	"archive/tar"
	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"io"
	"path"
	"strings"
)

// WriteTar writes the flattened filesystem of img (all layers applied in order,
// whiteouts ".wh.NAME" and opaque markers ".wh..wh..opq" honoured) as tar
// entries under prefix (e.g. "containers/services/getty/rootfs/", or "" for
// an init image flattened into /) into tw. tw is not closed.
//
// Output is deterministic: entries come in walk order (depth first, siblings
// sorted by name, parents before children), in PAX format, with the layers'
// mode (permission, setuid/setgid/sticky bits), uid/gid, user/group names,
// modification times and xattrs (SCHILY.xattr.*); access/change times and
// other PAX records are dropped. The root directory itself is not written, nor
// are the prefix's directories. Directories an entry needs but no layer
// declares are written as 0755 root:root with modification time 0 (Unix
// epoch). A group of hard links is written as one regular file (the first name
// in walk order) followed by links to it; a file whose link target was later
// deleted or replaced becomes that regular file itself, as with overlayfs.
//
// The safety rules are in the package comment above; a refused entry is
// reported as an *Error. On error, what was written to tw is invalid.
func WriteTar(tw *tar.Writer, prefix string, img v1.Image, opts Options) error {
	prefix, err := cleanPrefix(prefix)
	if err != nil {
		return err
	}
	t, err := flatten(img, opts)
	if err != nil {
		return err
	}
	cr := t.contentReader()
	defer cr.close()
	for _, e := range t.emitOrder() {
		h := e.header()
		h.Name = prefix + h.Name
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		if h.Typeflag == tar.TypeLink {
			h.Linkname = prefix + h.Linkname
		}
		if err := tw.WriteHeader(h); err != nil {
			return t.errorf(e.node.layer, e.node.raw, "writing tar header: %w", err)
		}
		if h.Typeflag != tar.TypeReg || h.Size == 0 {
			continue
		}
		if err := cr.copyTo(e.node.content, func(r io.Reader) error {
			_, err := io.CopyN(tw, r, h.Size)
			return err
		}); err != nil {
			return err
		}
	}
	return cr.finish()
}

// cleanPrefix checks and normalises WriteTar's prefix: "" or a relative
// directory, returned with a trailing slash.
func cleanPrefix(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	c := path.Clean(p)
	if path.IsAbs(p) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("assemble: prefix %q must be a relative path inside the image", p)
	}
	if c == "." {
		return "", nil
	}
	return c + "/", nil
}
