package qemu

import (
	"slices"
	"strings"
)

// consoleDevice is the serial console of each guest arch in the machines
// Run uses: the 8250 UART of q35 and the PL011 of arm virt.
var consoleDevice = map[string]string{"amd64": "ttyS0", "arm64": "ttyAMA0"}

// kernelCmdline returns the command line of a kernel boot: the build's
// (base) and the caller's (extra) parameters, plus what Run relies on
// unless the command line already sets it:
//
//   - console=<serial>: the console is how Run sees the boot;
//   - panic=-1: a panic reboots at once, so QEMU (-no-reboot) exits instead
//     of leaving a dead guest running until the timeout;
//   - root=/dev/vda for kernel+squashfs, whose squashfs is the first disk.
//
// Parameters after a "--" are init's, not the kernel's: extra's go after
// base's, and the added ones before both.
func kernelCmdline(base, extra, arch string, kind Kind) string {
	kernel, initArgs := splitInit(base)
	ek, ei := splitInit(extra)
	kernel, initArgs = append(kernel, ek...), append(initArgs, ei...)
	if !hasParam(kernel, "console") {
		kernel = append(kernel, "console="+consoleDevice[arch])
	}
	if !hasParam(kernel, "panic") {
		kernel = append(kernel, "panic=-1")
	}
	if kind == KindKernelSquashfs && !hasParam(kernel, "root") {
		kernel = append(kernel, "root=/dev/vda")
	}
	if len(initArgs) > 0 {
		kernel = append(append(kernel, "--"), initArgs...)
	}
	return strings.Join(kernel, " ")
}

// splitInit splits a command line into the kernel's parameters and init's
// (those after "--").
func splitInit(cmdline string) (kernel, init []string) {
	params := strings.Fields(cmdline)
	if i := slices.Index(params, "--"); i >= 0 {
		return params[:i:i], params[i+1:]
	}
	return params, nil
}

// hasParam reports whether params set the kernel parameter key (key=...).
func hasParam(params []string, key string) bool {
	return slices.ContainsFunc(params, func(p string) bool {
		k, _, _ := strings.Cut(p, "=")
		return k == key
	})
}
