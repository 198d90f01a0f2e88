package qemu

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeHost is a host with the given files, the QEMU binaries in /usr/bin
// and a KVM that works when kvm is nil-error.
func fakeHost(arch string, kvm error, files ...string) host {
	return host{
		arch: arch,
		kvm:  func() error { return kvm },
		lookPath: func(name string) (string, error) {
			return "/usr/bin/" + name, nil
		},
		exists:   func(p string) bool { return slices.Contains(files, p) },
		readFile: func(p string) ([]byte, error) { return []byte("console=tty0 quiet\n"), nil },
		abs: func(p string) (string, error) {
			if filepath.IsAbs(p) {
				return p, nil
			}
			return filepath.Join("/cwd", p), nil
		},
	}
}

var (
	errNoKVM    = errors.New("/dev/kvm: permission denied")
	kernelFiles = []string{"out/x-kernel", "out/x-initrd.img", "out/x-cmdline"}
	squashFiles = []string{"out/x-kernel", "out/x-squashfs.img"}
	ovmfSplit   = []string{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"}
	aavmfSplit  = []string{"/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd"}
	commonArgs  = []string{"-nographic", "-serial", "stdio", "-monitor", "none", "-no-reboot", "-chardev", "socket,id=lkpkg-qmp,path=/w/qmp.sock", "-mon", "chardev=lkpkg-qmp,mode=control", "-device", "virtio-rng-pci"}
	pvpanicAMD  = []string{"-device", "pvpanic"}
	pvpanicARM  = []string{"-device", "pvpanic-pci"}
	userNIC     = []string{"-nic", "user,model=virtio-net-pci"}
	kernelBoot  = []string{"-kernel", "/cwd/out/x-kernel", "-initrd", "/cwd/out/x-initrd.img", "-append", "console=tty0 quiet panic=-1"}
)

func join(parts ...[]string) []string { return slices.Concat(parts...) }

// machine is the start of every plan with the default CPUs and memory.
func machine(m, accel, cpu string) []string {
	return []string{"-machine", m, "-accel", accel, "-cpu", cpu, "-smp", "1", "-m", "1024"}
}

// efiFirmware is the two pflash drives of an EFI plan: code, then the copy of
// the variables in the work directory.
func efiFirmware(code string) []string {
	return []string{"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + code,
		"-drive", "if=pflash,format=raw,unit=1,file=/w/efivars.fd"}
}

// planArgsTest is a case of TestPlanArgs.
type planArgsTest struct {
	name      string
	cfg       Config
	host      host
	wantBin   string
	wantAccel string
	want      []string
}

// planArgsTests are the plans of every output kind and architecture.
func planArgsTests() []planArgsTest {
	return []planArgsTest{
		{
			name:      "kernel+initrd amd64 kvm",
			cfg:       Config{Output: "out/x"},
			host:      fakeHost("amd64", nil, kernelFiles...),
			wantBin:   "/usr/bin/qemu-system-x86_64",
			wantAccel: "kvm",
			want: join(machine("q35", "kvm", "host"),
				commonArgs, pvpanicAMD, userNIC, kernelBoot),
		},
		{
			name:      "kernel+initrd amd64 no kvm falls back to tcg",
			cfg:       Config{Output: "out/x", Mem: 512, CPUs: 2, Networking: "none"},
			host:      fakeHost("amd64", errNoKVM, kernelFiles...),
			wantBin:   "/usr/bin/qemu-system-x86_64",
			wantAccel: "tcg",
			want: join([]string{"-machine", "q35", "-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", "512"},
				commonArgs, pvpanicAMD, []string{"-nic", "none"}, kernelBoot),
		},
		{
			name:      "kernel+initrd amd64 tcg asked for",
			cfg:       Config{Output: "out/x", Accel: AccelTCG, ExtraArgs: []string{"-s"}},
			host:      fakeHost("amd64", nil, kernelFiles...),
			wantBin:   "/usr/bin/qemu-system-x86_64",
			wantAccel: "tcg",
			want: join(machine("q35", "tcg", "max"),
				commonArgs, pvpanicAMD, userNIC, kernelBoot, []string{"-s"}),
		},
		{
			name:      "kernel+initrd arm64 on amd64 host",
			cfg:       Config{Output: "out/x", Arch: "aarch64"},
			host:      fakeHost("amd64", nil, kernelFiles...),
			wantBin:   "/usr/bin/qemu-system-aarch64",
			wantAccel: "tcg",
			want: join(machine("virt,gic-version=max", "tcg", "max,pauth-impdef=on"),
				commonArgs, pvpanicARM, userNIC, kernelBoot),
		},
		{
			name:      "kernel+initrd arm64 kvm on arm64 host",
			cfg:       Config{Output: "out/x"},
			host:      fakeHost("arm64", nil, kernelFiles...),
			wantBin:   "/usr/bin/qemu-system-aarch64",
			wantAccel: "kvm",
			want: join(machine("virt,gic-version=max", "kvm", "host"),
				commonArgs, pvpanicARM, userNIC, kernelBoot),
		},
		{
			name:      "kernel+squashfs amd64 with an extra disk",
			cfg:       Config{Output: "out/x-squashfs.img", Disks: []string{"data.qcow2", "a,b.img"}},
			host:      fakeHost("amd64", errNoKVM, squashFiles...),
			wantBin:   "/usr/bin/qemu-system-x86_64",
			wantAccel: "tcg",
			want: join(machine("q35", "tcg", "max"),
				commonArgs, pvpanicAMD, userNIC,
				[]string{"-kernel", "/cwd/out/x-kernel", "-append", "console=ttyS0 panic=-1 root=/dev/vda",
					"-drive", "file=/cwd/out/x-squashfs.img,format=raw,if=virtio,readonly=on",
					"-drive", "file=/cwd/data.qcow2,format=qcow2,if=virtio",
					"-drive", "file=/cwd/a,,b.img,format=raw,if=virtio"}),
		},
		{
			name:      "raw-efi amd64 split OVMF",
			cfg:       Config{Output: "out/x"},
			host:      fakeHost("amd64", errNoKVM, append([]string{"out/x-efi.img"}, ovmfSplit...)...),
			wantBin:   "/usr/bin/qemu-system-x86_64",
			wantAccel: "tcg",
			want: join(machine("q35", "tcg", "max"),
				commonArgs, pvpanicAMD, userNIC,
				efiFirmware("/usr/share/OVMF/OVMF_CODE_4M.fd"), []string{"-drive", "file=/cwd/out/x-efi.img,format=raw,if=virtio,snapshot=on"}),
		},
		{
			name:      "qcow2-efi amd64 all-in-one OVMF",
			cfg:       Config{Output: "out/x"},
			host:      fakeHost("amd64", nil, "out/x-efi.qcow2", "/usr/share/ovmf/OVMF.fd"),
			wantBin:   "/usr/bin/qemu-system-x86_64",
			wantAccel: "kvm",
			want: join(machine("q35", "kvm", "host"),
				commonArgs, pvpanicAMD, userNIC,
				[]string{"-bios", "/usr/share/ovmf/OVMF.fd", "-drive", "file=/cwd/out/x-efi.qcow2,format=qcow2,if=virtio,snapshot=on"}),
		},
		{
			name:      "iso-efi arm64 AAVMF",
			cfg:       Config{Output: "out/x-efi.iso", Arch: "arm64"},
			host:      fakeHost("amd64", nil, append([]string{"out/x-efi.iso"}, aavmfSplit...)...),
			wantBin:   "/usr/bin/qemu-system-aarch64",
			wantAccel: "tcg",
			want: join(machine("virt,gic-version=max", "tcg", "max,pauth-impdef=on"),
				commonArgs, pvpanicARM, userNIC,
				efiFirmware("/usr/share/AAVMF/AAVMF_CODE.fd"), []string{"-drive", "file=/cwd/out/x-efi.iso,format=raw,if=none,id=lkpkg-cd,media=cdrom,readonly=on",
					"-device", "virtio-scsi-pci,id=lkpkg-scsi", "-device", "scsi-cd,bus=lkpkg-scsi.0,drive=lkpkg-cd"}),
		},
		{
			name:      "raw-efi with firmware override",
			cfg:       Config{Output: "out/x-efi.img", Firmware: "/fw/CODE.fd", FirmwareVars: "/fw/VARS.fd"},
			host:      fakeHost("amd64", errNoKVM, "out/x-efi.img", "/fw/CODE.fd", "/fw/VARS.fd"),
			wantBin:   "/usr/bin/qemu-system-x86_64",
			wantAccel: "tcg",
			want: join(machine("q35", "tcg", "max"),
				commonArgs, pvpanicAMD, userNIC,
				efiFirmware("/fw/CODE.fd"), []string{"-drive", "file=/cwd/out/x-efi.img,format=raw,if=virtio,snapshot=on"}),
		},
		{
			name:      "raw-bios amd64 needs no firmware",
			cfg:       Config{Output: "out/x"},
			host:      fakeHost("amd64", errNoKVM, "out/x-bios.img"),
			wantBin:   "/usr/bin/qemu-system-x86_64",
			wantAccel: "tcg",
			want: join(machine("q35", "tcg", "max"),
				commonArgs, pvpanicAMD, userNIC,
				[]string{"-drive", "file=/cwd/out/x-bios.img,format=raw,if=virtio,snapshot=on"}),
		},
	}
}

func TestPlanArgs(t *testing.T) {
	for _, tt := range planArgsTests() {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPlan(tt.cfg, "/w", tt.host)
			if err != nil {
				t.Fatal(err)
			}
			if p.Binary != tt.wantBin || p.Accel != tt.wantAccel {
				t.Errorf("binary %s accel %s, want %s %s", p.Binary, p.Accel, tt.wantBin, tt.wantAccel)
			}
			if !slices.Equal(p.Args, tt.want) {
				t.Errorf("args:\n got %q\nwant %q", p.Args, tt.want)
			}
		})
	}
}

// TestPlanAbsolutePaths: QEMU takes a relative file name with a ':'
// before any '/' for a protocol ("vm:1-efi.img" is protocol "vm"), so
// every file it is given is absolute; in -drive file= a comma is doubled.
func TestPlanAbsolutePaths(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		host host
		want []string // a subsequence of the arguments
	}{
		{
			name: "kernel+initrd",
			cfg:  Config{Output: "vm:1", Disks: []string{"nbd:data.img", "/abs/a,b.qcow2", "json:{}.img"}},
			host: fakeHost("amd64", nil, "vm:1-kernel", "vm:1-initrd.img"),
			want: []string{"-kernel", "/cwd/vm:1-kernel", "-initrd", "/cwd/vm:1-initrd.img",
				"-drive", "file=/cwd/nbd:data.img,format=raw,if=virtio",
				"-drive", "file=/abs/a,,b.qcow2,format=qcow2,if=virtio",
				"-drive", "file=/cwd/json:{}.img,format=raw,if=virtio"},
		},
		{
			name: "kernel+squashfs",
			cfg:  Config{Output: "vm:1-squashfs.img"},
			host: fakeHost("amd64", nil, "vm:1-kernel", "vm:1-squashfs.img"),
			want: []string{"-kernel", "/cwd/vm:1-kernel", "-drive", "file=/cwd/vm:1-squashfs.img,format=raw,if=virtio,readonly=on"},
		},
		{
			name: "raw-efi with relative split firmware",
			cfg:  Config{Output: "vm:1-efi.img", Firmware: "fw:a,b/CODE.fd", FirmwareVars: "fw:a,b/VARS.fd"},
			host: fakeHost("amd64", nil, "vm:1-efi.img", "fw:a,b/CODE.fd", "fw:a,b/VARS.fd"),
			want: []string{"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/cwd/fw:a,,b/CODE.fd",
				"-drive", "file=/cwd/vm:1-efi.img,format=raw,if=virtio,snapshot=on"},
		},
		{
			name: "iso-efi with a relative all-in-one firmware",
			cfg:  Config{Output: "vm:1-efi.iso", Firmware: "fw:OVMF.fd"},
			host: fakeHost("amd64", nil, "vm:1-efi.iso", "fw:OVMF.fd"),
			want: []string{"-bios", "/cwd/fw:OVMF.fd", "-drive", "file=/cwd/vm:1-efi.iso,format=raw,if=none,id=lkpkg-cd,media=cdrom,readonly=on"},
		},
		{
			name: "qcow2-bios",
			cfg:  Config{Output: "vm:1.qcow2"},
			host: fakeHost("amd64", nil, "vm:1.qcow2"),
			want: []string{"-drive", "file=/cwd/vm:1.qcow2,format=qcow2,if=virtio,snapshot=on"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPlan(tt.cfg, "/w", tt.host)
			if err != nil {
				t.Fatal(err)
			}
			if !isSubsequence(tt.want, p.Args) {
				t.Errorf("args:\n got %q\nwant a subsequence %q", p.Args, tt.want)
			}
			for _, a := range p.Args {
				if strings.Contains(a, "file=vm:") || strings.HasPrefix(a, "vm:") || strings.Contains(a, "file=fw:") {
					t.Errorf("relative file in argument %q", a)
				}
			}
		})
	}
}

// isSubsequence reports whether the elements of want appear in got, in
// order.
func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestPlanAccelWhy(t *testing.T) {
	p, err := newPlan(Config{Output: "out/x"}, "/w", fakeHost("amd64", errNoKVM, kernelFiles...))
	if err != nil {
		t.Fatal(err)
	}
	if p.AccelWhy != errNoKVM.Error() {
		t.Errorf("AccelWhy %q, want %q", p.AccelWhy, errNoKVM)
	}
	p, err = newPlan(Config{Output: "out/x", Arch: "arm64"}, "/w", fakeHost("amd64", nil, kernelFiles...))
	if err != nil {
		t.Fatal(err)
	}
	if want := "an arm64 guest on an amd64 host"; p.AccelWhy != want {
		t.Errorf("AccelWhy %q, want %q", p.AccelWhy, want)
	}
}

func TestPlanErrors(t *testing.T) {
	noQEMU := fakeHost("amd64", nil, kernelFiles...)
	noQEMU.lookPath = func(name string) (string, error) { return "", fmt.Errorf("%s: %w", name, fs.ErrNotExist) }
	tests := []struct {
		name string
		cfg  Config
		host host
		want []string // substrings of the error
	}{
		{"no output", Config{}, fakeHost("amd64", nil), []string{"no build output given"}},
		{"bad arch", Config{Output: "out/x", Arch: "riscv64"}, fakeHost("amd64", nil, kernelFiles...), []string{`"riscv64"`, "amd64 or arm64"}},
		{"bad networking", Config{Output: "out/x", Networking: "tap"}, fakeHost("amd64", nil, kernelFiles...), []string{`"tap"`}},
		{"bad accel", Config{Output: "out/x", Accel: "hvf"}, fakeHost("amd64", nil, kernelFiles...), []string{`"hvf"`}},
		{"missing qemu x86", Config{Output: "out/x"}, noQEMU, []string{"qemu-system-x86_64 not found", "qemu-system-x86 package"}},
		{"missing qemu arm", Config{Output: "out/x", Arch: "arm64"}, noQEMU, []string{"qemu-system-aarch64 not found", "qemu-system-arm package"}},
		{"kvm asked, unusable", Config{Output: "out/x", Accel: AccelKVM}, fakeHost("amd64", errNoKVM, kernelFiles...), []string{"KVM", "permission denied"}},
		{"kvm asked, foreign arch", Config{Output: "out/x", Accel: AccelKVM, Arch: "arm64"}, fakeHost("amd64", nil, kernelFiles...), []string{"KVM", "arm64 guest on an amd64 host"}},
		{"no OVMF", Config{Output: "out/x"}, fakeHost("amd64", nil, "out/x-efi.img"), []string{"no UEFI firmware for amd64", "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/ovmf/OVMF.fd", "Debian's ovmf package"}},
		{"no AAVMF", Config{Output: "out/x", Arch: "arm64"}, fakeHost("amd64", nil, "out/x-efi.img"), []string{"no UEFI firmware for arm64", "/usr/share/AAVMF/AAVMF_CODE.fd", "qemu-efi-aarch64 package"}},
		{"half OVMF", Config{Output: "out/x"}, fakeHost("amd64", nil, "out/x-efi.img", "/usr/share/OVMF/OVMF_CODE.fd"), []string{"no UEFI firmware"}},
		{"missing firmware override", Config{Output: "out/x", Firmware: "/fw/CODE.fd"}, fakeHost("amd64", nil, "out/x-efi.img"), []string{"/fw/CODE.fd: no such file"}},
		{"vars without code", Config{Output: "out/x", FirmwareVars: "/fw/VARS.fd"}, fakeHost("amd64", nil, "out/x-efi.img"), []string{"without the firmware code"}},
		{"bios on arm64", Config{Output: "out/x.iso", Arch: "arm64"}, fakeHost("amd64", nil, "out/x.iso"), []string{"iso-bios", "only amd64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newPlan(tt.cfg, "/w", tt.host)
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
