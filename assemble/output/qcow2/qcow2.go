// Package qcow2 writes a raw disk image as a sparse qcow2 (version 3) image,
// as `qemu-img convert -O qcow2` would, natively and deterministically.
//
// The image has 64 KiB clusters, 16-bit refcounts, no backing file, no
// snapshots, no compression and no encryption. Guest clusters that are all
// zero are not allocated (qcow2 reads unallocated clusters as zeros). The
// host file is laid out in one go:
//
//	header cluster | refcount table | refcount blocks | L1 table | L2 tables | data clusters
//
// with the L2 tables in guest order and the data clusters in guest order, so
// the output depends only on the raw bytes. Every host cluster has refcount 1
// and the COPIED flag is set in the L1 and L2 entries, which is what
// `qemu-img check` expects of an image without snapshots.
package qcow2

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/lkpkg/lkpkg/assemble/output"
)

const (
	// ClusterBits is log2 of the cluster size (64 KiB, qemu's default).
	ClusterBits = 16
	clusterSize = 1 << ClusterBits

	magic         = 0x514649fb // "QFI\xfb"
	version       = 3
	headerLength  = 104
	refcountOrder = 4 // 16-bit refcounts
	oflagCopied   = 1 << 63
	l2Entries     = clusterSize / 8
	refsPerBlock  = clusterSize / 2
)

// Layout is where Convert put things, in host clusters, for callers that
// want to report or check it.
type Layout struct {
	VirtualSize    int64
	GuestClusters  int64 // clusters of the virtual disk
	DataClusters   int64 // allocated (non-zero) guest clusters
	L2Tables       int64
	RefcountBlocks int64
	RefcountTable  int64 // clusters
	L1Table        int64 // clusters
	HostClusters   int64 // total, header included
	FileSize       int64 // bytes written
	allocated      []int64
	l2Index        []int64 // L1 indices that have an L2 table, ascending
	dataStart      int64   // first data cluster (host)
	l2Start        int64
	l1Start        int64
	refBlocksStart int64
	refTableStart  int64
	l1Size         int64
}

// Convert writes to w a qcow2 image of the raw image src, size bytes long
// (a positive multiple of 512). It reads src twice: once to find the
// non-zero clusters (skipping holes with SEEK_DATA when src is an
// *os.File, which may move that file's offset), once to copy them.
func Convert(w io.Writer, src io.ReaderAt, size int64) (*Layout, error) {
	if size <= 0 || size%512 != 0 {
		return nil, fmt.Errorf("qcow2: virtual size %d is not a positive multiple of 512", size)
	}
	alloc, err := scan(src, size)
	if err != nil {
		return nil, err
	}
	l := plan(size, alloc)
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &output.CountingWriter{W: bw}
	if err := l.write(cw, src); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("qcow2: writing: %w", err)
	}
	l.FileSize = cw.N
	return l, nil
}

// scan returns the indices of the guest clusters that hold a non-zero byte.
func scan(src io.ReaderAt, size int64) ([]int64, error) {
	var alloc []int64
	buf := make([]byte, 16*clusterSize)
	for _, r := range dataRanges(src, size) {
		// whole clusters around the range
		off := r[0] &^ (clusterSize - 1)
		for off < r[1] {
			n := min(int64(len(buf)), size-off, (r[1]-off+clusterSize-1)&^(clusterSize-1))
			if n <= 0 {
				break
			}
			if err := readFull(src, buf[:n], off); err != nil {
				return nil, err
			}
			for c := int64(0); c < n; c += clusterSize {
				if !output.AllZero(buf[c:min(c+clusterSize, n)]) {
					idx := (off + c) / clusterSize
					if len(alloc) == 0 || alloc[len(alloc)-1] < idx {
						alloc = append(alloc, idx)
					}
				}
			}
			off += n
		}
	}
	return alloc, nil
}

// dataRanges returns the [start, end) byte ranges of src that may hold data:
// with SEEK_DATA/SEEK_HOLE on an *os.File, else the whole image.
func dataRanges(src io.ReaderAt, size int64) [][2]int64 {
	whole := [][2]int64{{0, size}}
	f, ok := src.(*os.File)
	if !ok {
		return whole
	}
	const seekData, seekHole = 3, 4
	var out [][2]int64
	for off := int64(0); off < size; {
		d, err := f.Seek(off, seekData)
		if err != nil {
			if errors.Is(err, syscall.ENXIO) { // no data after off
				break
			}
			return whole // not supported here
		}
		if d >= size {
			break
		}
		h, err := f.Seek(d, seekHole)
		if err != nil {
			return whole
		}
		h = min(h, size)
		out = append(out, [2]int64{d, h})
		off = h
	}
	return out
}

// readFull reads len(b) bytes at off; bytes past the end of src read as
// zeros (a raw image may be a sparse file shorter than its size).
func readFull(src io.ReaderAt, b []byte, off int64) error {
	k, err := src.ReadAt(b, off)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			return fmt.Errorf("qcow2: reading the raw image: %w", err)
		}
		clear(b[k:])
	}
	return nil
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func plan(size int64, alloc []int64) *Layout {
	l := &Layout{VirtualSize: size, allocated: alloc}
	l.GuestClusters = ceilDiv(size, clusterSize)
	l.DataClusters = int64(len(alloc))
	l.l1Size = ceilDiv(l.GuestClusters, l2Entries)
	l.L1Table = ceilDiv(l.l1Size*8, clusterSize)
	for _, c := range alloc {
		i := c / l2Entries
		if len(l.l2Index) == 0 || l.l2Index[len(l.l2Index)-1] != i {
			l.l2Index = append(l.l2Index, i)
		}
	}
	l.L2Tables = int64(len(l.l2Index))
	// The refcount blocks count themselves and the refcount table: iterate
	// to the fixed point.
	rb, rt := int64(1), int64(1)
	for {
		host := 1 + rt + rb + l.L1Table + l.L2Tables + l.DataClusters
		nrb := ceilDiv(host, refsPerBlock)
		nrt := ceilDiv(nrb*8, clusterSize)
		if nrb == rb && nrt == rt {
			break
		}
		rb, rt = max(nrb, rb), max(nrt, rt)
	}
	l.RefcountBlocks, l.RefcountTable = rb, rt
	l.refTableStart = 1
	l.refBlocksStart = l.refTableStart + rt
	l.l1Start = l.refBlocksStart + rb
	l.l2Start = l.l1Start + l.L1Table
	l.dataStart = l.l2Start + l.L2Tables
	l.HostClusters = l.dataStart + l.DataClusters
	return l
}

func (l *Layout) write(w io.Writer, src io.ReaderAt) error {
	cluster := make([]byte, clusterSize)
	put := func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("qcow2: writing: %w", err)
		}
		return nil
	}
	zero := func() { clear(cluster) }

	// header
	zero()
	h := cluster
	be := binary.BigEndian
	be.PutUint32(h[0:], magic)
	be.PutUint32(h[4:], version)
	// 8: backing file offset, 16: its size: none
	be.PutUint32(h[20:], ClusterBits)
	be.PutUint64(h[24:], uint64(l.VirtualSize))
	// 32: no encryption
	be.PutUint32(h[36:], uint32(l.l1Size))
	be.PutUint64(h[40:], uint64(l.l1Start*clusterSize))
	be.PutUint64(h[48:], uint64(l.refTableStart*clusterSize))
	be.PutUint32(h[56:], uint32(l.RefcountTable))
	// 60: no snapshots; 72, 80, 88: no incompatible, compatible or autoclear features
	be.PutUint32(h[96:], refcountOrder)
	be.PutUint32(h[100:], headerLength)
	// header extensions: just the end marker (8 zero bytes at 104)
	if err := put(cluster); err != nil {
		return err
	}

	// refcount table
	table := make([]byte, l.RefcountTable*clusterSize)
	for i := range l.RefcountBlocks {
		be.PutUint64(table[8*i:], uint64((l.refBlocksStart+i)*clusterSize))
	}
	if err := put(table); err != nil {
		return err
	}
	// refcount blocks: 1 for every host cluster
	for b := range l.RefcountBlocks {
		zero()
		for i := range int64(refsPerBlock) {
			if b*refsPerBlock+i >= l.HostClusters {
				break
			}
			be.PutUint16(cluster[2*i:], 1)
		}
		if err := put(cluster); err != nil {
			return err
		}
	}
	// L1
	l1 := make([]byte, l.L1Table*clusterSize)
	for k, i := range l.l2Index {
		be.PutUint64(l1[8*i:], uint64((l.l2Start+int64(k))*clusterSize)|oflagCopied)
	}
	if err := put(l1); err != nil {
		return err
	}
	// L2 tables
	next := int64(0) // index into allocated
	for _, i := range l.l2Index {
		zero()
		for next < int64(len(l.allocated)) && l.allocated[next]/l2Entries == i {
			c := l.allocated[next]
			be.PutUint64(cluster[8*(c%l2Entries):], uint64((l.dataStart+next)*clusterSize)|oflagCopied)
			next++
		}
		if err := put(cluster); err != nil {
			return err
		}
	}
	// data
	for _, c := range l.allocated {
		zero()
		off := c * clusterSize
		n := min(int64(clusterSize), l.VirtualSize-off)
		if err := readFull(src, cluster[:n], off); err != nil {
			return err
		}
		if err := put(cluster); err != nil {
			return err
		}
	}
	return nil
}
