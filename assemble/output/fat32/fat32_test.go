package fat32

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/diskfs/go-diskfs/backend/file"
	diskfat "github.com/diskfs/go-diskfs/filesystem/fat32"
)

// TestESPLarge plans (and, unless -short, writes and checks) an ESP whose
// content needs 4 KiB clusters.
func TestESPLarge(t *testing.T) {
	big := &File{Path: "initrd.img", Src: zeroReaderAt{}, Size: 300 << 20}
	files := []*File{BytesFile("EFI/BOOT/BOOTX64.EFI", []byte("not really systemd-boot")), BytesFile("kernel", []byte("k")), big}
	l, err := Plan(files, "LKPKG-EFI", 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.clusterSize != 4096 || l.Size()%(1<<20) != 0 || l.Size() < 330<<20 || l.Size() > 340<<20 {
		t.Errorf("cluster %d, size %d", l.clusterSize, l.Size())
	}
	for _, f := range files {
		if f.Offset%2048 != 0 {
			t.Errorf("%s at %d: not 2 KiB aligned", f.Path, f.Offset)
		}
	}
	if testing.Short() {
		return
	}
	p := filepath.Join(t.TempDir(), "esp.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(l.Size()); err != nil {
		t.Fatal(err)
	}
	if err := l.Write(f, 0); err != nil {
		t.Fatal(err)
	}
	if fsck, err := exec.LookPath("fsck.vfat"); err == nil {
		if out, err := exec.Command(fsck, "-n", p).CombinedOutput(); err != nil {
			t.Errorf("fsck.vfat -n: %v\n%s", err, out)
		}
	}
	b, err := file.OpenFromPath(p, true)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fs, err := diskfat.Read(b, l.Size(), 0, 512)
	if err != nil {
		t.Fatal(err)
	}
	st, err := fs.Stat("initrd.img")
	if err != nil || st.Size() != 300<<20 {
		t.Errorf("initrd.img: %v %v", st, err)
	}
}

type zeroReaderAt struct{}

func (zeroReaderAt) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	return len(p), nil
}

func TestFATShortNames(t *testing.T) {
	taken := map[string]bool{}
	for _, tc := range []struct {
		name, short string
		long        bool
	}{
		{"EFI", "EFI        ", false},
		{"BOOTX64.EFI", "BOOTX64 EFI", false},
		{"kernel", "KERNEL     ", true},
		{"initrd.img", "INITRD  IMG", true},
		{"loader.conf", "LOADER~1CON", true},
		{"loader.confx", "LOADER~2CON", true},
		{"a b+c.tar.gz", "AB_CTA~1GZ ", true},
		{"KERNEL", "KERNEL~1   ", true}, // taken by "kernel"
	} {
		sn, long := shortName(tc.name, taken)
		if string(sn[:]) != tc.short || long != tc.long {
			t.Errorf("%s: %q long %v, want %q %v", tc.name, sn, long, tc.short, tc.long)
		}
	}
}
