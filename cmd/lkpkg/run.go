package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lkpkg/lkpkg/internal/units"
	"github.com/lkpkg/lkpkg/qemu"
)

// runExit ends the process with a status of its own: `lkpkg run qemu`
// tells a panic, a reboot and a timeout apart, which main's "any error is
// 1" cannot. A variable so that a test can catch it.
var runExit = os.Exit

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Boot the output of lkpkg build in a virtual machine",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newRunQemuCmd())
	return cmd
}

func newRunQemuCmd() *cobra.Command {
	var (
		cfg                qemu.Config
		mem, networking    string
		appendArgs, expect string
		dryRun             bool
		firmware, firmVars string
		disks, extra       []string
	)
	cmd := &cobra.Command{
		Use:   "qemu OUTPUT",
		Short: "Boot a kernel+initrd, kernel+squashfs or EFI/BIOS disk image in QEMU, console on stdout",
		Long: `qemu boots what "lkpkg build -o DIR" wrote for image NAME, as
"linuxkit run qemu" does. OUTPUT is the prefix DIR/NAME, which finds the
first of kernel+initrd (NAME-kernel, NAME-initrd.img, NAME-cmdline),
kernel+squashfs (NAME-kernel, NAME-squashfs.img), raw-efi (NAME-efi.img),
qcow2-efi (NAME-efi.qcow2), iso-efi (NAME-efi.iso), raw-bios (NAME-bios.img),
qcow2-bios (NAME.qcow2) or iso-bios (NAME.iso); or one of those files, which
picks its format.

The guest's serial console is this command's stdin and stdout (no monitor,
no display; Ctrl-C stops QEMU); QEMU's own messages go to stderr. A kernel boot gets
console=ttyS0 (amd64) or console=ttyAMA0 (arm64) unless its command line has
a console=, and panic=-1 unless it has a panic=. A guest whose kernel panics
without rebooting (an EFI image's command line has no panic=-1 added) is
stopped 2s after the console shows the panic. The build's disk images are
never written (snapshot=on or read-only); --disk images are.

KVM is used when the guest is the host's architecture and /dev/kvm can run
it, else TCG (emulation, much slower); the choice is printed on stderr.
EFI formats need UEFI firmware: Debian's ovmf package (amd64) or
qemu-efi-aarch64 (arm64), or --firmware.

Exit status: 0 the guest powered off (and printed --expect, if given);
1 lkpkg or QEMU failed; 2 the guest's kernel panicked (even if --timeout then
expired); 3 it rebooted or stopped without powering off; 4 it powered off
without printing --expect; 124 --timeout expired, with no panic seen, and
QEMU was killed.`,
		Example: `  lkpkg run qemu out/dhcpcd
  lkpkg run qemu --arch arm64 --mem 2G --cpus 2 out/dhcpcd-kernel
  lkpkg run qemu --timeout 3m --expect 'Welcome to LinuxKit' --networking none out/test
  lkpkg run qemu --append 'rdinit=/bin/sh' out/dhcpcd
  lkpkg run qemu --dry-run out/dhcpcd-efi.iso`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			cfg.Output = args[0]
			if cfg.Mem, err = units.ParseMiB(mem); err != nil {
				return fmt.Errorf("--mem: %w", err)
			}
			cfg.Networking, cfg.Append, cfg.Expect = networking, appendArgs, expect
			cfg.Firmware, cfg.FirmwareVars = firmware, firmVars
			cfg.Disks, cfg.ExtraArgs = disks, extra
			if dryRun {
				p, err := qemu.NewPlan(cfg, "$TMPDIR/lkpkg-qemu")
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), shellQuote(append([]string{p.Binary}, p.Args...)))
				return nil
			}
			cfg.Stdin = cmd.InOrStdin()
			cfg.Stdout = cmd.OutOrStdout()
			cfg.Stderr = cmd.ErrOrStderr()
			cfg.Log = prefixWriter{cmd.ErrOrStderr()}
			res, err := qemu.Run(cmd.Context(), cfg)
			if err == nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "lkpkg: guest powered off after %s\n", res.Duration.Round(100*time.Millisecond))
				return nil
			}
			code := qemu.ExitStatus(err)
			if code == qemu.ExitError {
				return err
			}
			msg := err.Error()
			if code != qemu.ExitTimeout { // a timeout says how long itself
				msg += fmt.Sprintf(" (after %s)", res.Duration.Round(100*time.Millisecond))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "lkpkg: %s\n", msg)
			runExit(code)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Arch, "arch", "", "guest architecture: amd64 or arm64 (default: the host's)")
	f.StringVar(&cfg.Accel, "accel", "", "accelerator: kvm or tcg (default: kvm when usable, else tcg)")
	f.StringVar(&mem, "mem", "1024M", "guest memory, in MiB or with an M or G suffix")
	f.IntVar(&cfg.CPUs, "cpus", qemu.DefaultCPUs, "guest CPUs")
	f.DurationVar(&cfg.Timeout, "timeout", 0, "kill QEMU and exit 124 (2 after a kernel panic) after this long (0: never)")
	f.StringVar(&networking, "networking", qemu.NetworkingUser, "guest network: user (QEMU user-mode NAT on a virtio NIC) or none")
	f.StringVar(&appendArgs, "append", "", "parameters to add to the kernel command line (kernel boots)")
	f.StringVar(&expect, "expect", "", "fail (exit 4) unless the console shows this text before the guest powers off")
	f.StringVar(&firmware, "firmware", "", "UEFI firmware code image for EFI formats (alone: loaded with -bios)")
	f.StringVar(&firmVars, "firmware-vars", "", "UEFI variable store template for --firmware (copied, never written)")
	f.StringArrayVar(&disks, "disk", nil, "extra disk image attached writable after the output's (repeatable; qcow2 if named *.qcow2, else raw)")
	f.StringArrayVar(&extra, "qemu-arg", nil, "extra argument passed to QEMU as is (repeatable)")
	f.BoolVar(&dryRun, "dry-run", false, "print the QEMU command line and exit (by hand, drop its -chardev and -mon: they talk to lkpkg)")
	return cmd
}

// prefixWriter marks Run's progress notes as lkpkg's, apart from the
// guest's console and QEMU's messages.
type prefixWriter struct{ w io.Writer }

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := fmt.Fprintf(p.w, "lkpkg: %s", b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// shellQuote joins args into a line a POSIX shell reads back as args.
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
