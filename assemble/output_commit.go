package assemble

// The commit of WriteOutputs: every output is written to a hidden temporary
// file in the output directory and renamed into place only once all of
// them are complete, so a failed build replaces nothing.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/lkpkg/lkpkg/assemble/output"

	"golang.org/x/sys/unix"
)

// outFiles tracks the temporary files of one WriteOutputs call: those
// promoted become outputs at commit, all others are removed.
type outFiles struct {
	dir    string
	temps  []*os.File
	outs   []outFile
	format map[string][]int // format -> its outs, in promotion order
}

type outFile struct {
	f    *os.File
	name string
}

func (o *outFiles) temp(label string) (*os.File, error) {
	f, err := os.CreateTemp(o.dir, "."+label+".tmp-*")
	if err != nil {
		return nil, err
	}
	o.temps = append(o.temps, f)
	return f, nil
}

// promote makes f the output name of format. A name promoted again (the
// kernel and cmdline of kernel+initrd and kernel+squashfs) is one file.
func (o *outFiles) promote(format string, f *os.File, name string) {
	i := slices.IndexFunc(o.outs, func(of outFile) bool { return of.name == name })
	if i < 0 {
		i = len(o.outs)
		o.outs = append(o.outs, outFile{f: f, name: name})
	}
	if o.format == nil {
		o.format = map[string][]int{}
	}
	if !slices.Contains(o.format[format], i) {
		o.format[format] = append(o.format[format], i)
	}
}

// named returns the file promoted as name, if any.
func (o *outFiles) named(name string) *os.File {
	for _, of := range o.outs {
		if of.name == name {
			return of.f
		}
	}
	return nil
}

// outFileMode is the mode of the output files: 0666 less the process umask,
// as os.Create or the shell would make them (the temporary files are created
// 0600 and given it at commit). The umask can only be read by setting it, so
// it is read once, at start, and put back at once; meanwhile it is 077, so
// that a file another goroutine creates then is not made more open.
var outFileMode = func() os.FileMode {
	m := unix.Umask(0o077)
	unix.Umask(m)
	return 0o666 &^ os.FileMode(m)
}()

// commit fsyncs every output, gives it outFileMode, renames them into place
// (format order) and fsyncs the directory.
func (o *outFiles) commit(order []string) ([]string, error) {
	var outs []outFile
	var done []int
	for _, format := range order {
		for _, i := range o.format[format] {
			if !slices.Contains(done, i) {
				done = append(done, i)
				outs = append(outs, o.outs[i])
			}
		}
	}
	for _, of := range outs {
		if err := of.f.Chmod(outFileMode); err != nil {
			return nil, err
		}
		if err := of.f.Sync(); err != nil {
			return nil, fmt.Errorf("%s: %w", of.name, err)
		}
	}
	var written []string
	for _, of := range outs {
		final := filepath.Join(o.dir, of.name)
		if err := os.Rename(of.f.Name(), final); err != nil {
			return written, err
		}
		written = append(written, final)
		o.temps = slices.DeleteFunc(o.temps, func(f *os.File) bool {
			if f == of.f {
				f.Close()
				return true
			}
			return false
		})
	}
	d, err := os.Open(o.dir)
	if err != nil {
		return written, err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return written, fmt.Errorf("syncing %s: %w", o.dir, err)
	}
	return written, nil
}

func (o *outFiles) cleanup() error {
	var errs []error
	for _, f := range o.temps {
		f.Close()
		if err := os.Remove(f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	o.temps = nil
	return errors.Join(errs...)
}

// outBootSet is the files a kernel-bearing format writes, which `lkpkg run`
// boots together: base-kernel, base-cmdline and an initrd or a squashfs.
var outBootSet = []string{output.SuffixKernel, output.SuffixCmdline, output.SuffixInitrd, output.SuffixSquashfs}

// outRemoveStale removes, after a build that wrote a kernel-bearing format
// (kernel+initrd, kernel+squashfs), the members of outBootSet it did not
// write: a kernel, cmdline, initrd or squashfs from an earlier build must not
// sit next to this build's files as if they belonged together (a new kernel
// booted with an old initrd). It runs after the commit, so a failed build
// leaves the earlier set whole.
func outRemoveStale(dir, base string, order, written []string) error {
	if !slices.Contains(order, FormatKernelInitrd) && !slices.Contains(order, FormatKernelSquashfs) {
		return nil
	}
	removed := false
	for _, suffix := range outBootSet {
		p := filepath.Join(dir, base+suffix)
		if slices.Contains(written, p) {
			continue
		}
		if err := os.Remove(p); err == nil {
			removed = true
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if !removed {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
