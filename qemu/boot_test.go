package qemu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const bootMarker = "LKPKG-BOOT-OK"

// Guest /init bodies. The kernel gives init no PATH: name busybox in full.
const (
	initPowerOff = "/bin/busybox mount -t proc proc /proc\necho " + bootMarker + "\n/bin/busybox poweroff -f"
	initReboot   = "echo " + bootMarker + "\n/bin/busybox reboot -f"
	initSleep    = "echo " + bootMarker + "\nwhile :; do /bin/busybox sleep 1000; done"
)

// TestBoot boots real kernel+initrd outputs of a Debian cloud kernel and
// an Alpine busybox initramfs, on amd64 and on arm64 (TCG on an amd64
// host), and checks each way a guest can end.
func TestBoot(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU guests")
	}
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel() // one QEMU per arch: TCG keeps a core busy each
			kernel := testKernel(t, arch)
			rootfs := alpineRootfs(t, arch)
			tests := []struct {
				name    string
				init    string
				cmdline string // NAME-cmdline
				efi     bool   // boot a raw-efi image through the firmware
				timeout time.Duration
				check   func(t *testing.T, res Result, err error)
			}{
				{"power-off", initPowerOff, "quiet", false, 5 * time.Minute, func(t *testing.T, res Result, err error) {
					if err != nil || !res.PoweredOff || !res.ExpectSeen || res.StopReason != "guest-shutdown" || ExitStatus(err) != 0 {
						t.Errorf("got %+v, %v; want a power-off with the marker", res, err)
					}
				}},
				{"panic", initPowerOff, "rdinit=/nonexistent", false, 5 * time.Minute, func(t *testing.T, res Result, err error) {
					if !errors.Is(err, ErrPanicked) || !res.Panicked || res.PoweredOff || res.ExpectSeen || ExitStatus(err) != ExitPanicked {
						t.Errorf("got %+v, %v; want a panic", res, err)
					}
				}},
				{"reboot", initReboot, "", false, 5 * time.Minute, func(t *testing.T, res Result, err error) {
					if !errors.Is(err, ErrNotPoweredOff) || !res.Rebooted || res.Panicked || res.StopReason != "guest-reset" || ExitStatus(err) != ExitNotPoweredOff {
						t.Errorf("got %+v, %v; want a reboot", res, err)
					}
				}},
				{"raw-efi power-off", initPowerOff, "", true, 5 * time.Minute, func(t *testing.T, res Result, err error) {
					if err != nil || !res.PoweredOff || !res.ExpectSeen || res.Kind != KindRawEFI {
						t.Errorf("got %+v, %v; want a power-off with the marker", res, err)
					}
				}},
				{"timeout", initSleep, "", false, 30 * time.Second, func(t *testing.T, res Result, err error) {
					if !errors.Is(err, ErrTimeout) || !res.TimedOut || ExitStatus(err) != ExitTimeout {
						t.Errorf("got %+v, %v; want a timeout", res, err)
					}
					if !res.ExpectSeen {
						t.Errorf("the guest never booted: this timeout proves nothing")
					}
					if res.Duration < 30*time.Second || res.Duration > 30*time.Second+stopGrace+5*time.Second {
						t.Errorf("ran %s for a 30s timeout", res.Duration)
					}
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					out := filepath.Join(t.TempDir(), "test")
					if tt.efi {
						initrd := filepath.Join(t.TempDir(), "initrd.img")
						writeInitrd(t, initrd, rootfs, tt.init)
						writeESP(t, out+"-efi.img", kernel, initrd, "console="+consoleDevice[arch]+" panic=-1")
						defer checkUnchanged(t, out+"-efi.img")()
					} else {
						if err := os.Symlink(kernel, out+"-kernel"); err != nil {
							t.Fatal(err)
						}
						writeInitrd(t, out+"-initrd.img", rootfs, tt.init)
					}
					if tt.cmdline != "" {
						if err := os.WriteFile(out+"-cmdline", []byte(tt.cmdline+"\n"), 0o644); err != nil {
							t.Fatal(err)
						}
					}
					var console, stderr bytes.Buffer
					res, err := Run(context.Background(), Config{
						Output:     out,
						Arch:       arch,
						Timeout:    tt.timeout,
						Expect:     bootMarker,
						Networking: NetworkingNone,
						Stdout:     &console,
						Stderr:     &stderr,
					})
					t.Logf("%s %s (%s): %s, %v", arch, tt.name, res.Accel, res.Duration.Round(time.Millisecond), err)
					tt.check(t, res, err)
					if t.Failed() {
						t.Logf("console:\n%s\nqemu stderr:\n%s", tail(console.String(), 3000), stderr.String())
					}
				})
			}
		})
	}
}

// checkUnchanged returns a func that fails t if file changed since: a boot
// must never write the build's images.
func checkUnchanged(t *testing.T, file string) func() {
	sum := func() [32]byte {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before := sum()
	return func() {
		if sum() != before {
			t.Errorf("%s changed by the boot", file)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
