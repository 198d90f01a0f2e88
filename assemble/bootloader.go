package assemble

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/lkpkg/lkpkg/assemble/output"
	"github.com/lkpkg/lkpkg/internal/units"
)

// NeedsBootloader reports whether formats include an EFI disk format,
// which needs Options.Bootloader.
func NeedsBootloader(formats []string) bool {
	for _, f := range formats {
		if slices.Contains(outEFIFormats, f) {
			return true
		}
	}
	return false
}

// bootloaderPaths are where a bootloader image keeps its EFI binary, per
// GOARCH, in order of preference: the removable-media path (an image made
// for this purpose), then systemd-boot as Debian's systemd-boot-efi
// installs it (pkgs/systemd-boot).
var bootloaderPaths = map[string][]string{
	"amd64": {"EFI/BOOT/BOOTX64.EFI", "usr/lib/systemd/boot/efi/systemd-bootx64.efi"},
	"arm64": {"EFI/BOOT/BOOTAA64.EFI", "usr/lib/systemd/boot/efi/systemd-bootaa64.efi"},
}

// maxBootloader bounds the EFI binary read into memory.
const maxBootloader = 64 << 20

// bootloader reads the EFI binary out of the bootloader image, pinned and
// verified like every other image: its layers are digest-checked and
// flattened safely (symlinks are not followed out of the image).
func (b *builder) bootloader(ref string) ([]byte, error) {
	paths := bootloaderPaths[b.opts.Platform.Architecture]
	if len(paths) == 0 {
		return nil, fmt.Errorf("bootloader %s: no EFI bootloader path known for %s (amd64, arm64)", ref, b.opts.Platform.Architecture)
	}
	img, err := b.image(ref)
	if err != nil {
		return nil, fmt.Errorf("bootloader %s: %w", ref, err)
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := Rootfs(tw, "", img, ExtractOptions{})
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	found := map[string][]byte{}
	err = output.EachEntry(pr, "bootloader "+ref, func(h *tar.Header, r io.Reader) error {
		name := path.Clean(strings.TrimPrefix(h.Name, "/"))
		if h.Typeflag != tar.TypeReg || !slices.Contains(paths, name) {
			return nil
		}
		data, err := io.ReadAll(io.LimitReader(r, maxBootloader+1))
		if err != nil {
			return fmt.Errorf("bootloader %s: %s: %w", ref, name, err)
		}
		if len(data) > maxBootloader {
			return fmt.Errorf("bootloader %s: %s is larger than %s", ref, name, units.FormatSize(maxBootloader))
		}
		found[name] = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		if data, ok := found[p]; ok {
			fmt.Fprintf(b.log, "bootloader: /%s from %s\n", p, ref)
			return data, nil
		}
	}
	return nil, fmt.Errorf("bootloader %s has no EFI binary for %s (looked for /%s)", ref, b.opts.Platform.Architecture, strings.Join(paths, ", /"))
}
