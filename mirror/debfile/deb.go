package debfile

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// maxControl bounds the decompressed control member. Real ones are a few
// KiB to a few MiB (md5sums of big packages); the bound only stops a
// hostile package from exhausting memory.
const maxControl = 256 << 20

// Deb is an opened .deb: its control member in memory and the location of
// its data member in the underlying file.
type Deb struct {
	// Format is the content of debian-binary without its newline ("2.0").
	Format string
	// Control is the raw DEBIAN/control file.
	Control []byte
	// Fields and FieldOrder are Control parsed by ParseControl.
	Fields     map[string]string
	FieldOrder []string
	// Scripts holds the other control members by name: preinst, postinst,
	// prerm, postrm, config, conffiles, md5sums, triggers, shlibs...
	Scripts map[string][]byte
	// DataMember is the name of the data member, e.g. "data.tar.xz".
	DataMember string

	r          io.ReaderAt
	data       member
	dataSuffix string
}

// Open reads the .deb in r, which is size bytes long. It reads and parses
// the control member and locates the data member; r must stay readable for
// as long as Data is called. It does not check the values of the control
// fields: CheckIdentity does, for Package, Version and Architecture.
func Open(r io.ReaderAt, size int64) (*Deb, error) {
	members, err := readAr(r, size)
	if err != nil {
		return nil, err
	}
	if len(members) == 0 || members[0].name != "debian-binary" {
		return nil, errors.New("not a Debian package: first ar member is not debian-binary")
	}
	d := &Deb{r: r}
	if d.Format, err = readFormat(r, members[0]); err != nil {
		return nil, err
	}
	var control *member
	var controlSuffix string
	for i := range members[1:] {
		m := &members[1+i]
		if s, ok := tarSuffix(m.name, "control", controlSuffixes); ok {
			if control != nil {
				return nil, fmt.Errorf("duplicate control member %s", m.name)
			}
			if d.DataMember != "" {
				return nil, fmt.Errorf("control member %s after data member %s", m.name, d.DataMember)
			}
			control, controlSuffix = m, s
			continue
		}
		if s, ok := tarSuffix(m.name, "data", dataSuffixes); ok {
			if d.DataMember != "" {
				return nil, fmt.Errorf("duplicate data member %s", m.name)
			}
			d.DataMember, d.data, d.dataSuffix = m.name, *m, s
			continue
		}
		// dpkg-deb skips members that start with "_" (signatures), and
		// refuses any other unknown member: so do we.
		if !strings.HasPrefix(m.name, "_") {
			return nil, fmt.Errorf("unknown ar member %q", m.name)
		}
	}
	if control == nil {
		return nil, errors.New("no control.tar member")
	}
	if d.DataMember == "" {
		return nil, errors.New("no data.tar member")
	}
	if err := d.readControl(*control, controlSuffix); err != nil {
		return nil, fmt.Errorf("%s: %w", control.name, err)
	}
	if d.Fields, d.FieldOrder, err = ParseControl(d.Control); err != nil {
		return nil, fmt.Errorf("%s: control: %w", control.name, err)
	}
	return d, nil
}

// readFormat checks debian-binary. dpkg accepts any 2.x version and
// ignores what follows the first line, so do we.
func readFormat(r io.ReaderAt, m member) (string, error) {
	if m.size > 64 {
		return "", fmt.Errorf("debian-binary is %d bytes long", m.size)
	}
	b := make([]byte, m.size)
	if _, err := r.ReadAt(b, m.offset); err != nil {
		return "", fmt.Errorf("debian-binary: %w", err)
	}
	v, _, _ := strings.Cut(string(b), "\n")
	if !strings.HasPrefix(v, "2.") {
		return "", fmt.Errorf("unsupported package format %q (want 2.x)", v)
	}
	return v, nil
}

// readControl loads every regular file of the control member.
func (d *Deb) readControl(m member, suffix string) error {
	zr, err := decompress(io.NewSectionReader(d.r, m.offset, m.size), suffix)
	if err != nil {
		return err
	}
	defer zr.Close()
	budget := &io.LimitedReader{R: zr, N: maxControl + 1}
	tr := tar.NewReader(budget)
	d.Scripts = map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		switch {
		case h.Typeflag == tar.TypeDir && name == "":
			continue
		case h.Typeflag != tar.TypeReg: // tar.Reader already maps old TypeRegA to TypeReg
			return fmt.Errorf("%s: not a regular file (type %q)", h.Name, h.Typeflag)
		case name == "" || strings.Contains(name, "/"):
			return fmt.Errorf("%s: control members must sit at the top level", h.Name)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		if budget.N <= 0 {
			return fmt.Errorf("decompresses to more than %d bytes", maxControl)
		}
		if _, dup := d.Scripts[name]; dup || (name == "control" && d.Control != nil) {
			return fmt.Errorf("%s: duplicate member", h.Name)
		}
		if name == "control" {
			d.Control = b
		} else {
			d.Scripts[name] = b
		}
	}
	if d.Control == nil {
		return errors.New("no control file")
	}
	return nil
}

// Data streams the data member's tar archive. Close the returned Closer
// when done; Data may be called again to re-read the archive.
func (d *Deb) Data() (*tar.Reader, io.Closer, error) {
	zr, err := decompress(io.NewSectionReader(d.r, d.data.offset, d.data.size), d.dataSuffix)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", d.DataMember, err)
	}
	return tar.NewReader(zr), zr, nil
}
