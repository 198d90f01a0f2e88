package qemu

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// Networking modes.
const (
	NetworkingUser = "user" // QEMU user-mode networking (slirp) on a virtio NIC
	NetworkingNone = "none" // no NIC at all
)

// Accelerators.
const (
	AccelAuto = ""    // KVM when the guest is the host's arch and /dev/kvm works, else TCG
	AccelKVM  = "kvm" // fail if KVM cannot be used
	AccelTCG  = "tcg" // always emulate
)

// Defaults of Config.
const (
	DefaultMem  = 1024 // MiB
	DefaultCPUs = 1
)

// Config says what to boot and how.
type Config struct {
	// Output is a build output: a path prefix (out/NAME) or one of its
	// files (out/NAME-kernel, out/NAME-efi.img...). See Detect.
	Output string
	// Arch is the guest architecture: amd64 or arm64 (also x86_64,
	// aarch64). Empty means the host's.
	Arch string
	// Accel is AccelAuto, AccelKVM or AccelTCG.
	Accel string
	// Mem is the guest memory in MiB (0: DefaultMem).
	Mem int
	// CPUs is the number of guest CPUs (0: DefaultCPUs).
	CPUs int
	// Timeout kills QEMU after this long (0: never) and makes Run return
	// ErrTimeout.
	Timeout time.Duration
	// Append is added to the kernel command line of a kernel boot, after
	// NAME-cmdline's parameters (and its init arguments, after "--", after
	// NAME-cmdline's).
	Append string
	// Expect, if set, must appear on the console before the guest powers
	// off; otherwise Run returns ErrExpectMissing.
	Expect string
	// Firmware overrides the UEFI firmware of an EFI boot: a code image,
	// with FirmwareVars its variable store template (copied, never
	// written), or alone a single image passed as -bios.
	Firmware     string
	FirmwareVars string
	// Networking is NetworkingUser (default) or NetworkingNone.
	Networking string
	// Disks are extra disk images attached as writable virtio disks after
	// the output's own (format qcow2 if the name ends in .qcow2, else raw).
	Disks []string
	// ExtraArgs are appended to QEMU's arguments as they are.
	ExtraArgs []string
	// Stdin is the console's input (nil: none). Stdout receives the serial
	// console (nil: discarded). Stderr receives QEMU's own messages (nil:
	// discarded; their tail is in Run's error when QEMU fails).
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Log receives Run's one-line progress notes, such as the accelerator
	// chosen (nil: discarded).
	Log io.Writer
}

// withDefaults returns cfg with its zero values filled and its Arch
// normalised, or an error for a value that cannot work.
func (cfg Config) withDefaults(hostArch string) (Config, error) {
	if cfg.Output == "" {
		return cfg, fmt.Errorf("no build output given")
	}
	if cfg.Arch == "" {
		cfg.Arch = hostArch
	}
	arch, err := normArch(cfg.Arch)
	if err != nil {
		return cfg, err
	}
	cfg.Arch = arch
	switch cfg.Accel {
	case AccelAuto, AccelKVM, AccelTCG:
	default:
		return cfg, fmt.Errorf("unknown accelerator %q (want kvm or tcg, or empty for automatic)", cfg.Accel)
	}
	if cfg.Mem == 0 {
		cfg.Mem = DefaultMem
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = DefaultCPUs
	}
	if cfg.Mem < 0 || cfg.CPUs < 0 {
		return cfg, fmt.Errorf("memory (%d MiB) and CPUs (%d) must be positive", cfg.Mem, cfg.CPUs)
	}
	if cfg.Timeout < 0 {
		return cfg, fmt.Errorf("negative timeout %s", cfg.Timeout)
	}
	switch cfg.Networking {
	case "":
		cfg.Networking = NetworkingUser
	case NetworkingUser, NetworkingNone:
	default:
		return cfg, fmt.Errorf("unknown networking %q (want user or none)", cfg.Networking)
	}
	if cfg.FirmwareVars != "" && cfg.Firmware == "" {
		return cfg, fmt.Errorf("firmware vars %s given without the firmware code image", cfg.FirmwareVars)
	}
	return cfg, nil
}

// normArch maps GOARCH and uname names of the supported guests to GOARCH.
func normArch(a string) (string, error) {
	switch a {
	case "amd64", "x86_64":
		return "amd64", nil
	case "arm64", "aarch64":
		return "arm64", nil
	}
	return "", fmt.Errorf("unsupported architecture %q (want amd64 or arm64)", a)
}

// hostArch is the architecture a guest gets when Config.Arch is empty.
var hostArch = runtime.GOARCH
