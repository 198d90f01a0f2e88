package rootfs

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/lkpkg/lkpkg/mirror/debfile"
)

// dpkgDir is dpkg's administrative directory.
const dpkgDir = "var/lib/dpkg"

// scriptMembers are the control members dpkg runs, kept executable.
var scriptMembers = map[string]bool{"preinst": true, "postinst": true, "prerm": true, "postrm": true, "config": true}

// writeDpkgDB writes the dpkg database that `dpkg --unpack` then
// `--configure` would leave: status with every package "install ok
// installed", each package's control members in info/ (.list, .md5sums,
// .conffiles, scripts...), an empty available file and the arch file.
// With it dpkg -l, dpkg -S, dpkg --verify, apt and SBOM scanners see the
// packages.
func (t *tree) writeDpkgDB(pkgs []*pkg, native string) error {
	for _, d := range []string{"", "/info", "/updates", "/triggers", "/alternatives"} {
		t.put(dir(dpkgDir+d, 0o755))
	}
	sorted := slices.Clone(pkgs)
	slices.SortFunc(sorted, func(a, b *pkg) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.arch, b.arch))
	})
	var status bytes.Buffer
	foreign := map[string]bool{}
	for _, p := range sorted {
		status.Write(statusStanza(p))
		status.WriteByte('\n')
		if p.arch != "all" && p.arch != native {
			foreign[p.arch] = true
		}
		files := map[string][]byte{"list": p.list()}
		for name, b := range p.scripts {
			files[name] = b
		}
		for name, b := range files {
			mode := int64(0o644)
			if scriptMembers[name] {
				mode = 0o755
			}
			if err := t.putFile(fmt.Sprintf("%s/info/%s.%s", dpkgDir, p.id(), name), mode, b); err != nil {
				return err
			}
		}
	}
	arches := []string{native}
	for a := range foreign {
		arches = append(arches, a)
	}
	slices.Sort(arches[1:])
	for name, b := range map[string][]byte{
		"status":    status.Bytes(),
		"available": nil,
		"arch":      []byte(strings.Join(arches, "\n") + "\n"),
		// Format 1 is the multiarch layout, "libc6:amd64.list"; without
		// this file dpkg expects format 0's unqualified names.
		"info/format": []byte("1\n"),
	} {
		if err := t.putFile(dpkgDir+"/"+name, 0o644, b); err != nil {
			return err
		}
	}
	return nil
}

// statusStanza is the package's control stanza as dpkg records it once
// installed: Status after Package, and the conffiles with the MD5 of
// their installed content before Description.
func statusStanza(p *pkg) []byte {
	fields := map[string]string{"Status": "install ok installed"}
	order := make([]string, 0, len(p.order)+2)
	conffiles := ""
	for _, c := range p.conffileOrder {
		if !p.lost[c] && p.conffiles[c] != "" {
			conffiles += "\n " + c + " " + p.conffiles[c]
		}
	}
	for _, name := range p.order {
		// A package's control file never holds these; should one try,
		// dpkg's own values win.
		if name == "Status" || name == "Conffiles" {
			continue
		}
		if name == "Description" && conffiles != "" {
			order = append(order, "Conffiles")
			fields["Conffiles"] = conffiles
		}
		order = append(order, name)
		fields[name] = p.fields[name]
		if name == "Package" {
			order = append(order, "Status")
		}
	}
	if _, ok := fields["Conffiles"]; !ok && conffiles != "" {
		order = append(order, "Conffiles")
		fields["Conffiles"] = conffiles
	}
	return debfile.FormatControl(fields, order)
}

// list is the package's info/PKG.list: "/." then every path it shipped,
// in archive order, as shipped. dpkg knows nothing of merged /usr and
// records /bin/sh, not /usr/bin/sh; recording the rewritten paths would
// make a later dpkg run inside the image (an upgrade that drops a file
// "from /usr/bin") delete files it still ships under /bin.
func (p *pkg) list() []byte {
	var b bytes.Buffer
	b.WriteString("/.\n")
	for _, e := range p.entries {
		if !p.lost[e.orig] {
			b.WriteString(e.orig)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// putFile adds a regular file that debroot makes, unless the path is
// taken.
func (t *tree) putFile(p string, mode int64, content []byte) error {
	if _, ok := t.nodes[p]; ok {
		return nil
	}
	e, err := t.file(p, mode, content)
	if err != nil {
		return err
	}
	t.put(e)
	return nil
}
