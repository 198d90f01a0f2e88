package rootfs

import "archive/tar"

// mergeUsr adds the merged-/usr links (/bin -> usr/bin...) and their
// targets, as debootstrap does for bookworm: always for bin, sbin, lib and
// lib64, and for lib32, libx32 and libo32 when a package shipped there.
func (t *tree) mergeUsr(pkgs []*pkg) {
	used := map[string]bool{}
	for _, top := range alwaysMerged {
		used[top] = true
	}
	for _, p := range pkgs {
		for _, e := range p.entries {
			if top, moved := movedTop(e.orig); moved {
				used[top] = true
			}
		}
	}
	for top := range used {
		t.put(dir("usr/"+top, 0o755))
		t.put(symlink(top, "usr/"+top))
	}
}

// baseDirs adds the directories a Debian root has before any package is
// unpacked (debootstrap and base-files make them), when no package
// shipped them: the world-writable sticky /tmp and /var/tmp, root's
// private home, and the usual empty mount points.
func (t *tree) baseDirs() {
	for _, d := range []struct {
		path string
		mode int64
	}{
		{"tmp", 0o1777}, {"var/tmp", 0o1777}, {"root", 0o700},
		{"etc", 0o755}, {"dev", 0o755}, {"proc", 0o755}, {"sys", 0o755}, {"run", 0o755},
	} {
		t.put(dir(d.path, d.mode))
	}
}

// accounts writes /etc/passwd and /etc/group. base-passwd's preinst
// copies its master files there on a fresh install; without base-passwd
// the root gets a minimal root-only pair, which is enough for tools that
// look up uid 0.
func (t *tree) accounts() error {
	for _, f := range []struct{ etc, master, minimal string }{
		{"etc/passwd", "usr/share/base-passwd/passwd.master", "root:x:0:0:root:/root:/bin/sh\n"},
		{"etc/group", "usr/share/base-passwd/group.master", "root:x:0:\n"},
	} {
		content := []byte(f.minimal)
		if m, ok := t.nodes[f.master]; ok && m.typ == tar.TypeReg {
			b, err := t.sp.read(m.blob)
			if err != nil {
				return err
			}
			content = b
		}
		if err := t.putFile(f.etc, 0o644, content); err != nil {
			return err
		}
	}
	return nil
}

// binSh makes sure /bin/sh exists when dash is installed. bookworm's dash
// ships the /bin/sh -> dash link itself; older ones made it in postinst,
// which this stands in for.
func (t *tree) binSh() {
	if _, ok := t.nodes["usr/bin/dash"]; ok {
		t.put(symlink("usr/bin/sh", "dash"))
	}
}
