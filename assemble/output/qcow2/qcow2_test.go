package qcow2

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readBack is an independent minimal qcow2 reader: it checks the header
// and the refcounts of every referenced cluster, and returns the virtual
// size and the allocated guest clusters.
func readBack(t *testing.T, img []byte) (int64, map[int64][]byte) {
	t.Helper()
	be := binary.BigEndian
	if be.Uint32(img) != magic || be.Uint32(img[4:]) != 3 || be.Uint32(img[20:]) != ClusterBits {
		t.Fatalf("header % x", img[:24])
	}
	if len(img)%clusterSize != 0 {
		t.Errorf("file size %d is not whole clusters", len(img))
	}
	size := int64(be.Uint64(img[24:]))
	l1Size := int64(be.Uint32(img[36:]))
	l1Off := int64(be.Uint64(img[40:]))
	rtOff := int64(be.Uint64(img[48:]))
	rtClusters := int64(be.Uint32(img[56:]))
	if be.Uint32(img[96:]) != 4 || be.Uint32(img[100:]) != 104 || be.Uint64(img[72:]) != 0 {
		t.Errorf("refcount order %d, header length %d, incompatible features %#x", be.Uint32(img[96:]), be.Uint32(img[100:]), be.Uint64(img[72:]))
	}
	refs := map[int64]int{0: 1} // host cluster -> references
	for c := range rtClusters {
		refs[rtOff/clusterSize+c]++
	}
	for c := range (l1Size*8 + clusterSize - 1) / clusterSize {
		refs[l1Off/clusterSize+c]++
	}
	out := map[int64][]byte{}
	for i := range l1Size {
		e := be.Uint64(img[l1Off+8*i:])
		if e == 0 {
			continue
		}
		if e&oflagCopied == 0 {
			t.Errorf("L1[%d] without COPIED", i)
		}
		l2 := int64(e &^ oflagCopied)
		refs[l2/clusterSize]++
		for j := range int64(l2Entries) {
			d := be.Uint64(img[l2+8*j:])
			if d == 0 {
				continue
			}
			if d&oflagCopied == 0 || d&1 != 0 {
				t.Errorf("L2 entry %#x", d)
			}
			host := int64(d &^ oflagCopied)
			refs[host/clusterSize]++
			out[i*l2Entries+j] = img[host : host+clusterSize]
		}
	}
	// refcount table and blocks: referenced clusters have 1, others 0
	for c := range rtClusters * clusterSize / 8 {
		rb := int64(be.Uint64(img[rtOff+8*c:]))
		if rb == 0 {
			continue
		}
		refs[rb/clusterSize]++
	}
	host := int64(len(img)) / clusterSize
	for c := range host {
		rb := int64(be.Uint64(img[rtOff+8*(c/refsPerBlock):]))
		got := int(be.Uint16(img[rb+2*(c%refsPerBlock):]))
		if got != refs[c] || got != 1 {
			t.Errorf("host cluster %d: refcount %d, referenced %d times", c, got, refs[c])
		}
	}
	return size, out
}

// guestBytes expands readBack's clusters.
func guestBytes(size int64, clusters map[int64][]byte) []byte {
	out := make([]byte, size)
	for c, b := range clusters {
		copy(out[c*clusterSize:min((c+1)*clusterSize, size)], b)
	}
	return out
}

func convert(t *testing.T, raw []byte) ([]byte, *Layout) {
	t.Helper()
	var buf bytes.Buffer
	l, err := Convert(&buf, bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if l.FileSize != int64(buf.Len()) {
		t.Errorf("FileSize %d, wrote %d", l.FileSize, buf.Len())
	}
	return buf.Bytes(), l
}

func TestConvertSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{512, clusterSize, clusterSize + 512, 5*clusterSize - 1024, 3 << 20} {
		raw := make([]byte, size)
		// data in the first and last cluster and one in the middle
		raw[0] = 1
		raw[size-1] = 2
		for i := size / 2; i < min(size, size/2+3000); i++ {
			raw[i] = byte(rng.Uint32())
		}
		img, l := convert(t, raw)
		if got := guestBytes(readBack(t, img)); !bytes.Equal(got, raw) {
			t.Errorf("size %d: read back differs", size)
		}
		again, _ := convert(t, raw)
		if !bytes.Equal(img, again) {
			t.Errorf("size %d: not deterministic", size)
		}
		if l.DataClusters > 3 {
			t.Errorf("size %d: %d data clusters allocated", size, l.DataClusters)
		}
	}
	// A file source (holes skipped with SEEK_DATA) gives the same bytes.
	data := map[int64][]byte{100: []byte("a"), 5 << 20: bytes.Repeat([]byte("b"), 70000)}
	p := sparseFile(t, 8<<20, data)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fromFile bytes.Buffer
	if _, err := Convert(&fromFile, f, 8<<20); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if img, _ := convert(t, raw); !bytes.Equal(img, fromFile.Bytes()) {
		t.Errorf("file and reader sources differ")
	}

	zero := make([]byte, 1<<20)
	img, l := convert(t, zero)
	if l.DataClusters != 0 || l.L2Tables != 0 || len(img) != 4*clusterSize {
		t.Errorf("all-zero disk: %+v, %d bytes", l, len(img))
	}
	if got := guestBytes(readBack(t, img)); !bytes.Equal(got, zero) {
		t.Errorf("all-zero disk reads back non-zero")
	}
	if _, err := Convert(&bytes.Buffer{}, bytes.NewReader(nil), 0); err == nil {
		t.Errorf("size 0: no error")
	}
	if _, err := Convert(&bytes.Buffer{}, bytes.NewReader(make([]byte, 1000)), 1000); err == nil {
		t.Errorf("size 1000: no error")
	}
}

// sparseFile makes a sparse file of size with data at the given offsets.
func sparseFile(t *testing.T, size int64, data map[int64][]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for off, b := range data {
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// TestConvertLargeSparse: a 1.5 GiB sparse disk (several L2 tables, holes
// skipped with SEEK_DATA), checked by the Go reader and by qemu-img.
func TestConvertLargeSparse(t *testing.T) {
	const size = 3 << 29
	data := map[int64][]byte{
		0:                        []byte("boot sector"),
		512<<20 - 10:             []byte("straddles two L2 tables"),
		1<<30 + 12345:            bytes.Repeat([]byte{0xAB}, 200000),
		size - clusterSize + 100: []byte("end"),
		1<<30 + 8<<20:            make([]byte, 3*clusterSize), // written zeros: not allocated
	}
	p := sparseFile(t, size, data)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := filepath.Join(t.TempDir(), "disk.qcow2")
	q, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Convert(q, f, size)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if l.L2Tables != 3 || l.DataClusters != 1+2+4+1 {
		t.Errorf("layout %+v", l)
	}
	img, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	gotSize, clusters := readBack(t, img)
	if gotSize != size || len(clusters) != 8 {
		t.Errorf("size %d, %d clusters", gotSize, len(clusters))
	}
	for off, b := range data {
		for i := range int64(len(b)) {
			c := clusters[(off+i)/clusterSize]
			if got := byte(0); c != nil {
				got = c[(off+i)%clusterSize]
				if got != b[i] {
					t.Fatalf("byte %d: %#x, want %#x", off+i, got, b[i])
				}
			} else if b[i] != 0 {
				t.Fatalf("byte %d: not allocated", off+i)
			}
		}
	}

	qemuImg, err := exec.LookPath("qemu-img")
	if err != nil {
		if testing.Short() {
			t.Skip("qemu-img not installed (qemu-utils): skipped in -short mode")
		}
		t.Fatal("qemu-img not installed: apt-get install qemu-utils (the qcow2 test checks against it)")
	}
	if b, err := exec.Command(qemuImg, "check", out).CombinedOutput(); err != nil || !strings.Contains(string(b), "No errors were found") {
		t.Errorf("qemu-img check: %v\n%s", err, b)
	}
	if b, err := exec.Command(qemuImg, "compare", "-f", "raw", "-F", "qcow2", p, out).CombinedOutput(); err != nil {
		t.Errorf("qemu-img compare: %v\n%s", err, b)
	}
}

// TestPlanRefcounts: the refcount blocks and table count themselves.
func TestPlanRefcounts(t *testing.T) {
	for _, n := range []int64{0, 1, 32760, 32768, 100000, 5_000_000} {
		alloc := make([]int64, n)
		for i := range alloc {
			alloc[i] = int64(i)
		}
		l := plan(n*clusterSize+clusterSize, alloc)
		if l.RefcountBlocks*refsPerBlock < l.HostClusters || (l.RefcountBlocks-1)*refsPerBlock >= l.HostClusters {
			t.Errorf("%d clusters: %d refcount blocks for %d host clusters", n, l.RefcountBlocks, l.HostClusters)
		}
		if l.RefcountTable*clusterSize/8 < l.RefcountBlocks {
			t.Errorf("%d clusters: refcount table of %d clusters for %d blocks", n, l.RefcountTable, l.RefcountBlocks)
		}
		if want := (n + l2Entries - 1) / l2Entries; l.L2Tables != want {
			t.Errorf("%d clusters: %d L2 tables", n, l.L2Tables)
		}
	}
}
