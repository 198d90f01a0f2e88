package pkgs

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/internal/testenv"
)

// The builder images (Debian C toolchain, Go toolchain) build offline from
// their locks, and the programs built on them, with the network off, are
// static binaries of the right arch that run; a second build from a clean
// cache and a fresh buildkitd gives the same digests.
func TestToolchainImagesBuildHelloReproducibly(t *testing.T) {
	testenv.Integration(t)
	pkgs := []string{"toolchain", "go", "hello-c", "hello-go"}
	digests := make([]string, 2)
	for round := range digests {
		// The first round's cache is shared with the boot test.
		l := sharedLkpkg(t)
		if round > 0 {
			l = privateLkpkg(t)
		}
		l.run(t, append([]string{"pkg", "build", "--progress", "plain"}, pkgs...)...)
		var ids []string
		for _, p := range pkgs {
			ref := strings.TrimSpace(l.run(t, "pkg", "show-tag", p))
			c, err := cache.Open(l.cache)
			if err != nil {
				t.Fatal(err)
			}
			d, ok, err := c.Resolve(ref)
			if err != nil || !ok {
				t.Fatalf("%s not in the cache: %v", ref, err)
			}
			ids = append(ids, ref+"@"+d.Digest.String())
		}
		digests[round] = strings.Join(ids, "\n")
		if round > 0 {
			continue
		}
		for _, tc := range []struct {
			pkg, arch, file, want string
			machine               elf.Machine
		}{
			{"hello-c", "amd64", "usr/bin/hello", "hello from static C (glibc, libseccomp 2.5", elf.EM_X86_64},
			{"hello-c", "amd64", "usr/bin/hello-musl", "hello from static C (musl)", elf.EM_X86_64},
			{"hello-c", "arm64", "usr/bin/hello", "hello from static C (glibc, libseccomp 2.5", elf.EM_AARCH64},
			{"hello-go", "amd64", "usr/bin/hello-go", "hello from Go go1.26.8 on linux/amd64", elf.EM_X86_64},
			{"hello-go", "arm64", "usr/bin/hello-go", "hello from Go go1.26.8 on linux/arm64", elf.EM_AARCH64},
		} {
			t.Run(tc.pkg+"/"+tc.arch+"/"+filepath.Base(tc.file), func(t *testing.T) {
				img := l.image(t, tc.pkg, tc.arch)
				bin := filepath.Join(t.TempDir(), "prog")
				if err := os.WriteFile(bin, []byte(readFile(t, img, tc.file)), 0o755); err != nil {
					t.Fatal(err)
				}
				f, err := elf.Open(bin)
				if err != nil {
					t.Fatalf("%s: %v", tc.file, err)
				}
				defer f.Close()
				if f.Machine != tc.machine {
					t.Fatalf("%s is %v, want %v", tc.file, f.Machine, tc.machine)
				}
				for _, p := range f.Progs {
					if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
						t.Fatalf("%s is dynamically linked", tc.file)
					}
				}
				// arm64 binaries run through qemu-user's binfmt handler.
				out, err := exec.Command(bin).CombinedOutput()
				if err != nil || !bytes.Contains(out, []byte(tc.want)) {
					t.Fatalf("%s printed %q (%v), want %q", tc.file, out, err, tc.want)
				}
			})
		}
		t.Run("toolchain image has its dpkg database and the kept .debs", func(t *testing.T) {
			img := l.image(t, "toolchain", "amd64")
			status := readFile(t, img, "var/lib/dpkg/status")
			for _, p := range []string{"Package: gcc-12\n", "Package: musl-tools\n", "Package: gcc-12-aarch64-linux-gnu\n", "Package: libseccomp-dev\nStatus: install ok installed\n"} {
				if !strings.Contains(status, p) {
					t.Errorf("dpkg status lacks %q", p)
				}
			}
			if !strings.Contains(status, "Architecture: arm64\n") {
				t.Errorf("dpkg status has no arm64 package (libseccomp-dev:arm64)")
			}
			if idx := readFile(t, img, "mirror/debian/Packages"); strings.Count(idx, "\nSHA256: ") < 100 {
				t.Errorf("mirror/debian/Packages lists %d packages", strings.Count(idx, "\nSHA256: "))
			}
		})
	}
	if digests[0] != digests[1] {
		t.Fatalf("two clean builds differ:\n%s\n---\n%s", digests[0], digests[1])
	}
	t.Logf("two clean builds, same digests:\n%s", digests[0])
}
