package qemu

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
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
				cmdline string // NAME-cmdline; for efi, the ESP's, after console=
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
				// An EFI boot's command line is the image's: no panic=-1
				// (and Debian's kernel default, panic=0, hangs). Run must
				// stop it soon after the panic, not at the timeout.
				{"raw-efi panic", initPowerOff, "rdinit=/nonexistent", true, 3 * time.Minute, func(t *testing.T, res Result, err error) {
					if !errors.Is(err, ErrPanicked) || !res.Panicked || res.TimedOut || res.PoweredOff || ExitStatus(err) != ExitPanicked {
						t.Errorf("got %+v, %v; want a panic, stopped before the timeout", res, err)
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
						writeESP(t, out+"-efi.img", kernel, initrd, strings.TrimSpace("console="+consoleDevice[arch]+" "+tt.cmdline))
						defer checkUnchanged(t, out+"-efi.img")()
					} else {
						if err := os.Symlink(kernel, out+"-kernel"); err != nil {
							t.Fatal(err)
						}
						writeInitrd(t, out+"-initrd.img", rootfs, tt.init)
						if tt.cmdline != "" {
							if err := os.WriteFile(out+"-cmdline", []byte(tt.cmdline+"\n"), 0o644); err != nil {
								t.Fatal(err)
							}
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

// TestBootColonPath boots an output and a --disk named relative to the
// working directory with a ':' before any '/', which QEMU would take for
// a protocol ("d:1,x.img" is protocol "d"), and a ',' in the disk's name:
// QEMU must open them as files, and the guest boot. (The Debian kernel
// has virtio-blk as a module: the guest cannot look at the disk.)
func TestBootColonPath(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a QEMU guest")
	}
	arch := testArch(t)
	kernel := testKernel(t, arch)
	rootfs, err := filepath.Abs(alpineRootfs(t, arch))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.Symlink(kernel, "vm:1-kernel"); err != nil {
		t.Fatal(err)
	}
	writeInitrd(t, "vm:1-initrd.img", rootfs, initPowerOff)
	if err := os.WriteFile("d:1,x.img", make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	var console, stderr bytes.Buffer
	res, err := Run(context.Background(), Config{
		Output: "vm:1", Arch: arch, Timeout: 5 * time.Minute, Expect: bootMarker,
		Disks: []string{"d:1,x.img"}, Networking: NetworkingNone,
		Stdout: &console, Stderr: &stderr,
	})
	if err != nil || !res.PoweredOff || !res.ExpectSeen {
		t.Errorf("got %+v, %v; want a power-off with the marker", res, err)
		t.Logf("console:\n%s\nqemu stderr:\n%s", tail(console.String(), 3000), stderr.String())
	}
}

// runChildEnv, set, makes TestKilledRunLeavesNothing the child it starts:
// a Run of the output it names, with the console on stdout.
const runChildEnv = "LKPKG_QEMU_TEST_CHILD_OUTPUT"

// TestKilledRunLeavesNothing: a run killed while the guest runs (here by
// SIGPIPE, as `lkpkg run qemu X | grep -q Y` is once grep is done) leaves
// no work directory behind, and QEMU does not outlive it.
func TestKilledRunLeavesNothing(t *testing.T) {
	if out := os.Getenv(runChildEnv); out != "" {
		_, err := Run(context.Background(), Config{Output: out, Arch: runtime.GOARCH, Timeout: 3 * time.Minute,
			Networking: NetworkingNone, Stdout: os.Stdout, Stderr: os.Stderr})
		fmt.Fprintln(os.Stderr, "child: Run returned:", err)
		os.Exit(3)
	}
	if testing.Short() {
		t.Skip("boots a QEMU guest")
	}
	arch := testArch(t)
	kernel := testKernel(t, arch)
	out := filepath.Join(t.TempDir(), "test")
	if err := os.Symlink(kernel, out+"-kernel"); err != nil {
		t.Fatal(err)
	}
	writeInitrd(t, out+"-initrd.img", alpineRootfs(t, arch), "while :; do echo "+bootMarker+"; /bin/busybox sleep 0.2; done")
	tmp := t.TempDir()

	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledRunLeavesNothing$")
	cmd.Env = append(os.Environ(), runChildEnv+"="+out, "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	booted := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), bootMarker) {
				booted <- true
				return
			}
		}
		booted <- false
	}()
	select {
	case ok := <-booted:
		if !ok {
			cmd.Wait()
			t.Fatalf("the guest never printed %s; child stderr:\n%s", bootMarker, stderr.String())
		}
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the guest never printed %s; child stderr:\n%s", bootMarker, stderr.String())
	}
	stdout.Close() // the reader is gone: the child's next write gets SIGPIPE
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("the child still ran a minute after its stdout closed; stderr:\n%s", stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGPIPE {
		t.Errorf("the child ended with %s, not killed by SIGPIPE: the test proves nothing; stderr:\n%s", cmd.ProcessState, stderr.String())
	}

	// QEMU gets SIGTERM when the child dies (Pdeathsig): its command line
	// names the QMP socket in tmp.
	deadline := time.Now().Add(stopGrace + 5*time.Second)
	for pids := processesNaming(tmp); len(pids) > 0; pids = processesNaming(tmp) {
		if time.Now().After(deadline) {
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Errorf("QEMU (pids %v) outlived the killed run", pids)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	left, err := filepath.Glob(filepath.Join(tmp, "lkpkg-qemu-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("the killed run left %q behind", left)
	}
}

// processesNaming returns the processes with s in their command line.
func processesNaming(s string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(s)) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// testArch is the arch of the single-arch boot tests: the host's, which
// KVM may run.
func testArch(t *testing.T) string {
	switch runtime.GOARCH {
	case "amd64", "arm64":
		return runtime.GOARCH
	}
	t.Skipf("no QEMU guest for a %s host", runtime.GOARCH)
	return ""
}
