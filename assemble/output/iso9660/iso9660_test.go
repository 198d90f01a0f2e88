package iso9660

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lkpkg/lkpkg/assemble/output/fat32"
)

func TestIdentifier(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  bool
		want string
	}{
		{"EFI", true, "EFI"},
		{"loader.d", true, "LOADER_D"},
		{"kernel", false, "KERNEL.;1"},
		{"initrd.img", false, "INITRD.IMG;1"},
		{"a.b.conf", false, "A_B.CONF;1"},
		{"x-y z", false, "X_Y_Z.;1"},
	} {
		if got := identifier(tc.name, tc.dir); got != tc.want {
			t.Errorf("identifier(%q, %v) = %q, want %q", tc.name, tc.dir, got, tc.want)
		}
	}
	// ISO 9660 9.3: name, then extension, each as if padded with spaces.
	ids := []string{"KERNEL.;1", "A.B;1", "A_B.;1", "A.;1", "INITRD.IMG;1"}
	slices.SortFunc(ids, compareIdentifiers)
	if want := []string{"A.;1", "A.B;1", "A_B.;1", "INITRD.IMG;1", "KERNEL.;1"}; !slices.Equal(ids, want) {
		t.Errorf("sorted %q, want %q", ids, want)
	}
}

// TestWrite checks the layout Write promises: the El Torito catalog points
// at the FAT image, which ends the ISO, byte for byte.
func TestWrite(t *testing.T) {
	data := []byte("kernel bytes")
	boot, err := fat32.Plan([]*fat32.File{fat32.BytesFile("kernel", data)}, "TEST", 1)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "x.iso")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Write(f, boot, "VOL"); err != nil {
		t.Fatal(err)
	}
	iso, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(iso[16*SectorSize+1:16*SectorSize+6]) != "CD001" || string(iso[16*SectorSize+40:16*SectorSize+43]) != "VOL" {
		t.Fatalf("primary volume descriptor % x", iso[16*SectorSize:16*SectorSize+48])
	}
	cat := iso[catalogLBA*SectorSize:]
	lba := int64(binary.LittleEndian.Uint32(cat[40:]))
	if cat[1] != 0xEF || lba*SectorSize+boot.Size() != int64(len(iso)) {
		t.Errorf("catalog platform %#x, boot image at LBA %d of a %d byte ISO", cat[1], lba, len(iso))
	}
	img := iso[lba*SectorSize:]
	if !bytes.Contains(img, data) {
		t.Errorf("the boot image lacks the file's data")
	}
}
