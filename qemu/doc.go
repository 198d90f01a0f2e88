// Package qemu boots the outputs of `lkpkg build` in QEMU, like
// `linuxkit run qemu`, for people at a terminal and for tests.
//
// # What it boots
//
// Detect finds the build output behind a path prefix (out/NAME) or names one
// of its files: kernel+initrd (NAME-kernel, NAME-initrd.img, NAME-cmdline),
// kernel+squashfs (NAME-kernel, NAME-squashfs.img: attached as the first
// virtio disk, root=/dev/vda), raw-efi (NAME-efi.img), qcow2-efi
// (NAME-efi.qcow2), iso-efi (NAME-efi.iso) and, on amd64, the BIOS formats
// raw-bios (NAME-bios.img), qcow2-bios (NAME.qcow2) and iso-bios (NAME.iso).
// Disk images from the build are attached with snapshot=on or read-only,
// so a boot never changes them and every boot starts from the same bytes.
//
// # How the guest stopped
//
// QEMU runs with -no-reboot, so it exits 0 whether the guest powered off,
// rebooted or (with panic=-1, which Run adds to a kernel command line)
// panicked. Run tells these apart from two witnesses:
//
//   - QEMU's own account: the reason of the QMP SHUTDOWN event
//     ("guest-shutdown" for a power-off, "guest-reset" for a reboot,
//     "guest-panic" when a guest kernel with the pvpanic driver reports a
//     panic to the pvpanic device Run adds), read over a QMP socket Run
//     opens for each boot;
//   - the serial console, which Run watches line by line for the kernel's
//     "reboot: Power down", "reboot: Restarting system", "reboot: System
//     halted" and "Kernel panic - not syncing" messages, and for
//     Config.Expect. A message counts only as the kernel prints it, at the
//     start of a line after the optional printk timestamp ("[    1.234567] "):
//     a guest program that prints it elsewhere in a line is not the kernel.
//
// A panic wins over anything else, a timeout included (a panicking kernel
// then reboots, or hangs). A kernel that panics without rebooting (an EFI
// boot takes its command line from the image, with no panic=-1 added) is
// stopped 2 seconds after the console shows the panic. The QMP reason
// decides power-off against reboot; the console is the fallback when QMP
// said nothing. The outcome is one of:
//
//	outcome                            Result      error             ExitStatus
//	the guest powered off              PoweredOff  nil               0
//	Run could not boot it              -           any other         1
//	its kernel panicked                Panicked    ErrPanicked       2
//	it rebooted                        Rebooted    ErrNotPoweredOff  3
//	it halted, QEMU was killed, ...    -           ErrNotPoweredOff  3
//	powered off, Expect not seen       PoweredOff  ErrExpectMissing  4
//	Config.Timeout expired, no panic   TimedOut    ErrTimeout        124
//
// `lkpkg run qemu` exits with ExitStatus of Run's error; 124 is the code
// timeout(1) uses.
package qemu
