package qemu

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		output string
		files  []string
		want   Image
	}{
		{"kernel+initrd by prefix", "out/x", []string{"out/x-kernel", "out/x-initrd.img", "out/x-cmdline"},
			Image{Kind: KindKernelInitrd, Kernel: "out/x-kernel", Initrd: "out/x-initrd.img", Cmdline: "out/x-cmdline"}},
		{"kernel+initrd without cmdline", "out/x", []string{"out/x-kernel", "out/x-initrd.img"},
			Image{Kind: KindKernelInitrd, Kernel: "out/x-kernel", Initrd: "out/x-initrd.img"}},
		{"kernel+initrd by kernel file", "out/x-kernel", []string{"out/x-kernel", "out/x-initrd.img"},
			Image{Kind: KindKernelInitrd, Kernel: "out/x-kernel", Initrd: "out/x-initrd.img"}},
		{"kernel+initrd by cmdline file", "out/x-cmdline", []string{"out/x-kernel", "out/x-initrd.img", "out/x-cmdline"},
			Image{Kind: KindKernelInitrd, Kernel: "out/x-kernel", Initrd: "out/x-initrd.img", Cmdline: "out/x-cmdline"}},
		{"kernel+squashfs by prefix", "out/x", []string{"out/x-kernel", "out/x-squashfs.img", "out/x-cmdline"},
			Image{Kind: KindKernelSquashfs, Kernel: "out/x-kernel", Disk: "out/x-squashfs.img", Cmdline: "out/x-cmdline"}},
		{"both: prefix prefers the initrd", "out/x", []string{"out/x-kernel", "out/x-initrd.img", "out/x-squashfs.img"},
			Image{Kind: KindKernelInitrd, Kernel: "out/x-kernel", Initrd: "out/x-initrd.img"}},
		{"both: the squashfs file selects it", "out/x-squashfs.img", []string{"out/x-kernel", "out/x-initrd.img", "out/x-squashfs.img"},
			Image{Kind: KindKernelSquashfs, Kernel: "out/x-kernel", Disk: "out/x-squashfs.img"}},
		{"kernel before efi", "out/x", []string{"out/x-efi.img", "out/x-kernel", "out/x-initrd.img"},
			Image{Kind: KindKernelInitrd, Kernel: "out/x-kernel", Initrd: "out/x-initrd.img"}},
		{"raw-efi by prefix", "out/x", []string{"out/x-efi.img", "out/x.iso"}, Image{Kind: KindRawEFI, Disk: "out/x-efi.img"}},
		{"qcow2-efi by prefix", "out/x", []string{"out/x-efi.qcow2"}, Image{Kind: KindQcow2EFI, Disk: "out/x-efi.qcow2"}},
		{"iso-efi by prefix", "out/x", []string{"out/x-efi.iso"}, Image{Kind: KindISOEFI, Disk: "out/x-efi.iso"}},
		{"raw-bios by prefix", "out/x", []string{"out/x-bios.img"}, Image{Kind: KindRawBIOS, Disk: "out/x-bios.img"}},
		{"qcow2-bios by prefix", "out/x", []string{"out/x.qcow2"}, Image{Kind: KindQcow2BIOS, Disk: "out/x.qcow2"}},
		{"iso-bios by prefix", "out/x", []string{"out/x.iso"}, Image{Kind: KindISOBIOS, Disk: "out/x.iso"}},
		{"iso-efi by file", "out/x-efi.iso", []string{"out/x-efi.iso", "out/x-kernel", "out/x-initrd.img"}, Image{Kind: KindISOEFI, Disk: "out/x-efi.iso"}},
		{"iso-bios by file", "my.iso", []string{"my.iso"}, Image{Kind: KindISOBIOS, Disk: "my.iso"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := detect(tt.output, func(p string) bool { return slices.Contains(tt.files, p) })
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDetectErrors(t *testing.T) {
	tests := []struct {
		name   string
		output string
		files  []string
		want   []string // substrings of the error
	}{
		{"kernel without initrd", "out/x", []string{"out/x-kernel", "out/x-cmdline"},
			[]string{"found the kernel out/x-kernel", "out/x-initrd.img (kernel+initrd)", "out/x-squashfs.img (kernel+squashfs)"}},
		{"kernel file without initrd", "out/x-kernel", []string{"out/x-kernel"},
			[]string{"out/x-initrd.img", "out/x-squashfs.img"}},
		{"initrd without kernel", "out/x", []string{"out/x-initrd.img", "out/x-cmdline"},
			[]string{"found out/x-initrd.img", "not the kernel out/x-kernel"}},
		{"squashfs without kernel", "out/x-squashfs.img", []string{"out/x-squashfs.img"},
			[]string{"found out/x-squashfs.img", "not the kernel out/x-kernel"}},
		{"cmdline alone", "out/x-cmdline", []string{"out/x-cmdline"},
			[]string{"out/x-cmdline: out/x-kernel missing"}},
		{"nothing", "out/x", nil,
			[]string{"no build output at out/x", "out/x-kernel with out/x-initrd.img or out/x-squashfs.img", "out/x-efi.img", "out/x-efi.qcow2", "out/x-efi.iso", "out/x.iso"}},
		{"unknown file", "out/x.tar", []string{"out/x.tar"},
			[]string{"cannot tell the output format", "NAME-efi.img"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := detect(tt.output, func(p string) bool { return slices.Contains(tt.files, p) })
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestDetectFiles runs Detect on real files, as `lkpkg build` leaves them.
func TestDetectFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"x-kernel", "x-initrd.img", "x-cmdline"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prefix := filepath.Join(dir, "x")
	img, err := Detect(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if img.Kind != KindKernelInitrd || img.Cmdline != prefix+"-cmdline" {
		t.Errorf("got %+v", img)
	}
	if _, err := Detect(filepath.Join(dir, "y")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing output: %v, want fs.ErrNotExist", err)
	}
	if _, err := Detect(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}
