package main

import (
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/lkpkg/lkpkg/assemble"
	"github.com/lkpkg/lkpkg/internal/units"
	"github.com/lkpkg/lkpkg/sign"
)

func newBuildCmd(g *globalFlags) *cobra.Command {
	var (
		dir, arch                         string
		formats                           []string
		updateLock, skipVerify            bool
		rf                                registryFlags
		trustKey, trustPolicy, trustStore string
		bootloader, diskSize              string
	)
	cmd := &cobra.Command{
		Use:   "build IMAGE.yml",
		Short: "Assemble a LinuxKit image YAML into a kernel, initrd or root filesystem tar (verified first)",
		Long: `build assembles an image YAML as "linuxkit build" does. Every image
reference is pinned to a digest in IMAGE.lock beside the YAML (written on
the first build, then used as is until --update-lock), looked up in the
local cache first, else in the registry.

Before any image content is read, every image the YAML's trust section
covers (or every image, with --trust-key / --trust-notation-policy) must
carry a valid cosign and/or notation signature in the registry it is named
after; otherwise the build fails and writes nothing. --insecure-skip-verify
skips that, with a WARNING per image.

Formats (files written as DIR/NAME-*, NAME being the YAML's file name):
  tar                NAME.tar: the root filesystem
  kernel+initrd      NAME-kernel, NAME-initrd.img, NAME-cmdline
  tar-kernel-initrd  NAME-initrd.tar: kernel, initrd.img, cmdline
  kernel+squashfs    NAME-kernel, NAME-squashfs.img, NAME-cmdline
  raw-efi            NAME-efi.img: GPT disk, one FAT32 ESP with the bootloader,
                     kernel, initrd and a systemd-boot entry with the cmdline
  qcow2-efi          NAME-efi.qcow2: the same disk as qcow2
  iso-efi            NAME-efi.iso: ISO 9660 with an El Torito EFI boot image
All are written natively (no Docker, no mkimage containers), atomically and
byte for byte reproducibly. The EFI formats take their bootloader from an
image (--bootloader), pinned and verified like the others, never from the
host; pkgs/systemd-boot builds one from Debian's pinned systemd-boot-efi.
Boot any of them with "lkpkg run qemu DIR/NAME".`,
		Example: `  lkpkg build -o out --format kernel+initrd,tar linuxkit.yml
  lkpkg build --update-lock --arch arm64 linuxkit.yml
  lkpkg build -o out --format raw-efi,iso-efi --bootloader $(lkpkg pkg show-tag pkgs/systemd-boot) linuxkit.yml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.openCache()
			if err != nil {
				return err
			}
			opts := assemble.Options{
				Cache:              c,
				Platform:           v1.Platform{OS: "linux", Architecture: arch},
				OutputDir:          dir,
				UpdateLock:         updateLock,
				Registry:           rf.Options(),
				InsecureSkipVerify: skipVerify,
				Bootloader:         bootloader,
				Log:                cmd.ErrOrStderr(),
			}
			if diskSize != "" {
				n, err := units.ParseSize(diskSize)
				if err != nil {
					return fmt.Errorf("--disk-size: %w", err)
				}
				opts.DiskSize = n
			}
			opts.Formats = splitList(formats...)
			if trustKey != "" || trustPolicy != "" || trustStore != "" {
				p := sign.Policy{NotationPolicy: trustPolicy, NotationTrustStore: trustStore}
				if trustKey != "" {
					if p.CosignPublicKey, err = os.ReadFile(trustKey); err != nil {
						return fmt.Errorf("--trust-key: %w", err)
					}
				}
				if trustPolicy != "" && trustStore == "" || trustPolicy == "" && trustStore != "" {
					return fmt.Errorf("--trust-notation-policy and --trust-notation-truststore go together")
				}
				opts.Policy = &p
			}
			res, err := assemble.Build(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, o := range res.Outputs {
				fmt.Fprintf(out, "wrote %s\n", o)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&dir, "dir", "o", ".", "output directory")
	cmd.Flags().StringSliceVar(&formats, "format", []string{assemble.FormatKernelInitrd}, "output formats, comma separated: "+strings.Join(assemble.SupportedFormats(), ", "))
	cmd.Flags().StringVar(&bootloader, "bootloader", "", "image with the EFI bootloader for raw-efi, qcow2-efi and iso-efi (e.g. lkpkg/systemd-boot:TAG)")
	cmd.Flags().StringVar(&diskSize, "disk-size", "", "size of raw-efi/qcow2-efi disks, e.g. 512M or 2G (default: fit the contents)")
	cmd.Flags().StringVar(&arch, "arch", "amd64", "architecture of the images to use (GOARCH name)")
	cmd.Flags().BoolVar(&updateLock, "update-lock", false, "re-resolve every image reference and rewrite IMAGE.lock")
	rf.AddFlags(cmd)
	cmd.Flags().BoolVar(&skipVerify, "insecure-skip-verify", false, "DANGEROUS: do not verify signatures (prints a WARNING per unverified image)")
	cmd.Flags().StringVar(&trustKey, "trust-key", "", "cosign public key every image must be signed with (in addition to the YAML's trust section)")
	cmd.Flags().StringVar(&trustPolicy, "trust-notation-policy", "", "notation trust policy every image must pass (with --trust-notation-truststore)")
	cmd.Flags().StringVar(&trustStore, "trust-notation-truststore", "", "notation trust store directory for --trust-notation-policy")
	return cmd
}
