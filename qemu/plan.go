package qemu

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Plan is one boot resolved into the QEMU command Run starts. NewPlan
// only looks: it writes nothing and starts nothing.
type Plan struct {
	Image Image
	Arch  string
	// Accel is "kvm" or "tcg"; AccelWhy says why TCG was chosen when KVM
	// was not asked for and could not be used.
	Accel, AccelWhy string
	// Binary is the QEMU system emulator found in $PATH, Args its
	// arguments.
	Binary string
	Args   []string
	// Cmdline is the kernel command line of a kernel boot.
	Cmdline string

	// Work files, in the work directory: Run copies varsTemplate to vars
	// before the start, and listens on qmp.
	varsTemplate, vars, qmp string
}

// NewPlan resolves cfg into the QEMU command line Run would start, naming
// its work files (the firmware variable store copy and the QMP socket) in
// workDir, which Run creates afresh for every boot.
func NewPlan(cfg Config, workDir string) (*Plan, error) {
	return newPlan(cfg, workDir, realHost())
}

func newPlan(cfg Config, workDir string, h host) (*Plan, error) {
	cfg, err := cfg.withDefaults(h.arch)
	if err != nil {
		return nil, err
	}
	img, err := detect(cfg.Output, h.exists)
	if err != nil {
		return nil, err
	}
	if !img.Kind.kernelBoot() && !img.Kind.efi() && cfg.Arch != "amd64" {
		return nil, fmt.Errorf("%s: %s boots through a PC BIOS, which only amd64 has", img.Disk, img.Kind)
	}
	p := &Plan{Image: img, Arch: cfg.Arch, qmp: filepath.Join(workDir, "qmp.sock")}
	info := arches[cfg.Arch]
	if p.Binary, err = h.lookPath(info.binary); err != nil {
		return nil, fmt.Errorf("%s not found in $PATH: install Debian's %s package", info.binary, info.binaryPkg)
	}
	if p.Accel, p.AccelWhy, err = chooseAccel(cfg, h); err != nil {
		return nil, err
	}
	var fw firmware
	if img.Kind.efi() {
		if fw, err = findFirmware(cfg, h.exists); err != nil {
			return nil, err
		}
		if fw.vars != "" {
			p.varsTemplate, p.vars = fw.vars, filepath.Join(workDir, "efivars.fd")
		}
	}
	if img.Kind.kernelBoot() {
		var base []byte
		if img.Cmdline != "" {
			if base, err = h.readFile(img.Cmdline); err != nil {
				return nil, err
			}
		}
		p.Cmdline = kernelCmdline(string(base), cfg.Append, cfg.Arch, img.Kind)
	}
	// QEMU takes a relative file name with a ':' before any '/' for a
	// protocol (vm:1-efi.img is protocol vm, and json:, nbd:... exist):
	// it gets every file as an absolute path.
	abs := func(p *string) {
		if *p != "" && err == nil {
			*p, err = h.abs(*p)
		}
	}
	files := img
	abs(&files.Kernel)
	abs(&files.Initrd)
	abs(&files.Disk)
	abs(&fw.code)
	cfg.Disks = slices.Clone(cfg.Disks)
	for i := range cfg.Disks {
		abs(&cfg.Disks[i])
	}
	if err != nil {
		return nil, err
	}
	p.Args = p.args(cfg, files, fw)
	return p, nil
}

// chooseAccel picks KVM or TCG. KVM needs a guest of the host's own arch
// and a /dev/kvm that can run it; asked for explicitly, its absence is an
// error, else Run falls back to TCG and says why.
func chooseAccel(cfg Config, h host) (accel, why string, err error) {
	if cfg.Accel == AccelTCG {
		return AccelTCG, "", nil
	}
	var cause error
	if hostArch, _ := normArch(h.arch); hostArch != cfg.Arch {
		cause = fmt.Errorf("an %s guest on an %s host", cfg.Arch, h.arch)
	} else {
		cause = h.kvm()
	}
	switch {
	case cause == nil:
		return AccelKVM, "", nil
	case cfg.Accel == AccelKVM:
		return "", "", fmt.Errorf("KVM asked for but unusable: %w", cause)
	}
	return AccelTCG, cause.Error(), nil
}

// args builds QEMU's arguments, for the image's files img (p.Image with
// absolute paths). The guest's serial console is QEMU's stdio and nothing
// else is (no monitor, no display), so that stdout is exactly the console;
// -no-reboot makes every guest stop end QEMU.
func (p *Plan) args(cfg Config, img Image, fw firmware) []string {
	a := []string{}
	add := func(s ...string) { a = append(a, s...) }

	switch cfg.Arch {
	case "amd64":
		add("-machine", "q35")
	case "arm64":
		// gic-version=max: the best GIC that KVM or TCG can give.
		add("-machine", "virt,gic-version=max")
	}
	add("-accel", p.Accel)
	switch {
	case p.Accel == AccelKVM:
		add("-cpu", "host")
	case cfg.Arch == "arm64":
		// Emulating the architected pointer-authentication cipher costs
		// TCG most of its time: the IMPDEF one boots ~4x faster (2 s
		// against 9 s for a Debian cloud kernel).
		add("-cpu", "max,pauth-impdef=on")
	default:
		add("-cpu", "max")
	}
	add("-smp", strconv.Itoa(cfg.CPUs), "-m", strconv.Itoa(cfg.Mem))
	add("-nographic", "-serial", "stdio", "-monitor", "none", "-no-reboot")
	// QEMU connects to Run's QMP listener at start (client mode: nothing
	// waits, and no "waiting for connection" message).
	add("-chardev", "socket,id=lkpkg-qmp,path="+optEscape(p.qmp), "-mon", "chardev=lkpkg-qmp,mode=control")
	// Guests that read /dev/random early would otherwise stall on entropy.
	add("-device", "virtio-rng-pci")
	// A guest kernel with the pvpanic driver tells QEMU of its panic,
	// which QEMU reports over QMP and ends the run with: a witness that
	// needs no serial console.
	add("-device", map[string]string{"amd64": "pvpanic", "arm64": "pvpanic-pci"}[cfg.Arch])
	switch cfg.Networking {
	case NetworkingUser:
		add("-nic", "user,model=virtio-net-pci")
	case NetworkingNone:
		add("-nic", "none")
	}

	switch {
	case fw.code == "":
	case fw.vars == "":
		add("-bios", fw.code)
	default:
		add("-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+optEscape(fw.code),
			"-drive", "if=pflash,format=raw,unit=1,file="+optEscape(p.vars))
	}

	if img.Kind.kernelBoot() {
		add("-kernel", img.Kernel)
		if img.Initrd != "" {
			add("-initrd", img.Initrd)
		}
		add("-append", p.Cmdline)
	}
	// The build's own images are never written: a squashfs or ISO is
	// read-only, a disk image boots on a throw-away snapshot.
	switch img.Kind {
	case KindKernelSquashfs:
		add("-drive", "file="+optEscape(img.Disk)+",format=raw,if=virtio,readonly=on")
	case KindRawEFI, KindRawBIOS:
		add("-drive", "file="+optEscape(img.Disk)+",format=raw,if=virtio,snapshot=on")
	case KindQcow2EFI, KindQcow2BIOS:
		add("-drive", "file="+optEscape(img.Disk)+",format=qcow2,if=virtio,snapshot=on")
	case KindISOEFI, KindISOBIOS:
		// virtio-scsi: a CD drive both machines (q35 and arm virt) and
		// both firmwares (SeaBIOS, UEFI) boot from.
		add("-drive", "file="+optEscape(img.Disk)+",format=raw,if=none,id=lkpkg-cd,media=cdrom,readonly=on",
			"-device", "virtio-scsi-pci,id=lkpkg-scsi", "-device", "scsi-cd,bus=lkpkg-scsi.0,drive=lkpkg-cd")
	}
	for _, d := range cfg.Disks {
		format := "raw"
		if strings.HasSuffix(d, ".qcow2") {
			format = "qcow2"
		}
		add("-drive", "file="+optEscape(d)+",format="+format+",if=virtio")
	}
	return append(a, cfg.ExtraArgs...)
}

// optEscape escapes a value inside a QEMU option list, where a comma
// separates options and ",," stands for a comma.
func optEscape(v string) string { return strings.ReplaceAll(v, ",", ",,") }
