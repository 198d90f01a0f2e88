package qemu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// host is what a plan needs to know about the machine. Tests replace it.
type host struct {
	arch     string                       // GOARCH of the host
	kvm      func() error                 // nil if KVM can run a guest here
	lookPath func(string) (string, error) // finds the QEMU binary
	exists   func(string) bool            // reports a regular file
	readFile func(string) ([]byte, error) // reads NAME-cmdline
	abs      func(string) (string, error) // makes a path absolute
}

func realHost() host {
	return host{arch: hostArch, kvm: probeKVM, lookPath: exec.LookPath, exists: isFile, readFile: os.ReadFile, abs: filepath.Abs}
}

// KVM ioctls (linux/kvm.h): _IO(KVMIO, 0x00) and _IO(KVMIO, 0x01).
const (
	kvmGetAPIVersion = 0xAE00
	kvmCreateVM      = 0xAE01
	kvmAPIVersion    = 12
)

// probeKVM checks that /dev/kvm can run an ordinary guest. Opening it is
// not enough: in containers and nested VMs the node can exist, even open,
// while KVM_CREATE_VM fails and QEMU would die at start. And on x86 the
// KVM behind it must be hardware virtualization (kvm_intel or kvm_amd):
// PVM (kvm_pvm), which sandboxes offer without VT-x/AMD-V, creates VMs
// but runs only kernels built as PVM guests; others hang at boot.
func probeKVM() error {
	if runtime.GOARCH == "amd64" && !dirExists("/sys/module/kvm_intel") && !dirExists("/sys/module/kvm_amd") {
		return fmt.Errorf("/dev/kvm is not hardware KVM (neither the kvm_intel nor the kvm_amd module is loaded)")
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	v, err := unix.IoctlRetInt(int(f.Fd()), kvmGetAPIVersion)
	if err != nil {
		return fmt.Errorf("/dev/kvm: KVM_GET_API_VERSION: %w", err)
	}
	if v != kvmAPIVersion {
		return fmt.Errorf("/dev/kvm: API version %d, want %d", v, kvmAPIVersion)
	}
	vm, err := unix.IoctlRetInt(int(f.Fd()), kvmCreateVM)
	if err != nil {
		return fmt.Errorf("/dev/kvm: KVM_CREATE_VM: %w", err)
	}
	return unix.Close(vm)
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
