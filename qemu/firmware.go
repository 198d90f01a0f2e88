package qemu

import (
	"fmt"
	"strings"
)

// firmware is a UEFI firmware: a code image and the template of its
// variable store, or a single image (vars empty) that QEMU loads as -bios.
type firmware struct {
	code, vars string
}

// archInfo is what differs between the guest architectures.
type archInfo struct {
	binary, binaryPkg string     // QEMU system emulator and its Debian package
	firmware          []firmware // UEFI candidates, best first
	firmwarePkg       string     // Debian package of the firmware
}

var arches = map[string]archInfo{
	"amd64": {
		binary:    "qemu-system-x86_64",
		binaryPkg: "qemu-system-x86",
		// Split code/vars images come first: their variable store is a
		// real (temporary) flash, as on hardware. OVMF.fd is the
		// all-in-one image older or other layouts ship.
		firmware: []firmware{
			{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"},
			{"/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"},
			{"/usr/share/ovmf/OVMF.fd", ""},
			{"/usr/share/qemu/OVMF.fd", ""},
		},
		firmwarePkg: "ovmf",
	},
	"arm64": {
		binary:    "qemu-system-aarch64",
		binaryPkg: "qemu-system-arm",
		firmware: []firmware{
			{"/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd"},
			{"/usr/share/qemu-efi-aarch64/QEMU_EFI.fd", ""},
		},
		firmwarePkg: "qemu-efi-aarch64",
	},
}

// findFirmware returns the UEFI firmware for arch: cfg's override, else the
// first complete candidate installed.
func findFirmware(cfg Config, exists func(string) bool) (firmware, error) {
	if cfg.Firmware != "" {
		for _, p := range []string{cfg.Firmware, cfg.FirmwareVars} {
			if p != "" && !exists(p) {
				return firmware{}, fmt.Errorf("firmware %s: no such file", p)
			}
		}
		return firmware{cfg.Firmware, cfg.FirmwareVars}, nil
	}
	info := arches[cfg.Arch]
	var tried []string
	for _, f := range info.firmware {
		if exists(f.code) && (f.vars == "" || exists(f.vars)) {
			return f, nil
		}
		tried = append(tried, f.code)
	}
	return firmware{}, fmt.Errorf("no UEFI firmware for %s found (looked for %s): install Debian's %s package, or pass the firmware's path",
		cfg.Arch, strings.Join(tried, ", "), info.firmwarePkg)
}
