package squashfs

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"

	"github.com/klauspost/compress/zlib"

	"github.com/lkpkg/lkpkg/assemble/output"
)

const (
	magic           = 0x73717368
	blockLog        = 17
	BlockSize       = 1 << blockLog
	metaBlockSize   = 8192
	compressionZlib = 1
	flagNoXattrs    = 0x0200
	invalidBlock    = math.MaxUint64
	dataRaw         = 1 << 24 // data block / fragment size: stored uncompressed
	metaRaw         = 0x8000  // metadata block header: stored uncompressed
	noFragment      = math.MaxUint32
	noXattr         = math.MaxUint32
	superblockSize  = 96
	nameMax         = 256
	dirMaxCount     = 256
	padTo           = 4096

	typeDir      = 1 // basic inode types; the extended ones are +7
	typeReg      = 2
	typeSymlink  = 3
	typeBlock    = 4
	typeChar     = 5
	typeFifo     = 6
	typeExtended = 7
)

// compressionLevel is the zlib level of data and metadata blocks
// (klauspost/compress, deterministic for a given level and version).
var compressionLevel = zlib.DefaultCompression

type node struct {
	kind     uint16 // basic type
	mode     uint16 // permission bits
	uid, gid uint32
	mtime    uint32
	size     uint64 // regular file
	start    uint64 // regular file: position of its first data block
	blocks   []uint32
	sparse   uint64
	fragIdx  uint32
	fragOff  uint32
	target   string // symlink
	rdev     uint32 // devices
	children map[string]*node
	nlink    uint32
	ino      uint32
	// directory index (extended directory inode)
	dirIndex      []byte
	dirIndexCount int
	ref           uint64 // inode table reference, once written
	written       bool
	numbered      bool
	dirFileLen    uint32 // directory listing size + 3
}

// job is one data or fragment block on its way to the image.
type job struct {
	raw   *[]byte
	n     int
	out   *bytes.Buffer // compressed, or nil: store raw
	zero  bool
	done  chan struct{}
	file  *node // data block: file and index
	index int
	frag  int // fragment block index, or -1
}

type fragEntry struct {
	start uint64
	size  uint32
}

// Writer writes a squashfs image to f, starting at offset 0.
type Writer struct {
	f    *os.File
	root *node

	frag    *[]byte // current fragment block
	fragLen int
	nFrags  int

	// pipeline
	jobs   chan *job
	order  chan *job
	wg     sync.WaitGroup // workers
	wdone  chan struct{}  // writer finished
	pos    uint64         // writer: bytes written so far (from 0)
	frags  []fragEntry    // writer: fragment table
	werr   error          // writer: first write error
	bw     *bufio.Writer
	closed bool
	err    error // sticky error of the producer side
}

var blockPool = sync.Pool{New: func() any { b := make([]byte, BlockSize); return &b }}
var outPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func NewWriter(f *os.File) (*Writer, error) {
	if _, err := f.Seek(superblockSize, io.SeekStart); err != nil {
		return nil, err
	}
	s := &Writer{
		f:     f,
		root:  &node{kind: typeDir, mode: 0o755, children: map[string]*node{}},
		pos:   superblockSize,
		bw:    bufio.NewWriterSize(f, 1<<20),
		wdone: make(chan struct{}),
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	s.jobs = make(chan *job, workers)
	s.order = make(chan *job, 4*workers)
	for range workers {
		s.wg.Add(1)
		go s.compressor()
	}
	go s.writer()
	return s, nil
}

func (s *Writer) compressor() {
	defer s.wg.Done()
	var zw *zlib.Writer
	for j := range s.jobs {
		raw := (*j.raw)[:j.n]
		if j.frag < 0 && output.AllZero(raw) {
			j.zero = true
			close(j.done)
			continue
		}
		out := outPool.Get().(*bytes.Buffer)
		out.Reset()
		var err error
		if zw == nil {
			zw, err = zlib.NewWriterLevel(out, compressionLevel)
		} else {
			zw.Reset(out)
		}
		if err == nil {
			_, err = zw.Write(raw)
		}
		if err == nil {
			err = zw.Close()
		}
		if err == nil && out.Len() < len(raw) {
			j.out = out
		} else {
			outPool.Put(out)
		}
		close(j.done)
	}
}

// writer writes the blocks in submission order and records where they went.
func (s *Writer) writer() {
	defer close(s.wdone)
	for j := range s.order {
		<-j.done
		var size uint32
		var data []byte
		switch {
		case j.zero:
		case j.out != nil:
			data = j.out.Bytes()
			size = uint32(len(data))
		default:
			data = (*j.raw)[:j.n]
			size = uint32(len(data)) | dataRaw
		}
		if j.frag >= 0 {
			s.frags = append(s.frags, fragEntry{start: s.pos, size: size})
		} else {
			if j.index == 0 {
				j.file.start = s.pos
			}
			j.file.blocks[j.index] = size
			if j.zero {
				j.file.sparse += uint64(j.n)
			}
		}
		if len(data) > 0 && s.werr == nil {
			if _, err := s.bw.Write(data); err != nil {
				s.werr = err
			}
		}
		s.pos += uint64(len(data))
		if j.out != nil {
			outPool.Put(j.out)
		}
		blockPool.Put(j.raw)
	}
}

func (s *Writer) submit(j *job) {
	j.done = make(chan struct{})
	s.order <- j
	s.jobs <- j
}

// stop ends the pipeline and waits for it.
func (s *Writer) stop() {
	if s.closed {
		return
	}
	s.closed = true
	close(s.jobs)
	close(s.order)
	s.wg.Wait()
	<-s.wdone
}

// Abort stops the workers; the image is incomplete.
func (s *Writer) Abort() { s.stop() }

func (s *Writer) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return err
}

// lookup walks the tree to name ("." is the root); nil if absent.
func (s *Writer) lookup(name string) *node {
	n := s.root
	if name == "." {
		return n
	}
	for part := range strings.SplitSeq(name, "/") {
		if n.kind != typeDir {
			return nil
		}
		if n = n.children[part]; n == nil {
			return nil
		}
	}
	return n
}

// parentDir returns the directory that holds name, creating missing
// directories (root:root 0755, mtime 0).
func (s *Writer) parentDir(name string) (*node, error) {
	d := s.root
	dir := path.Dir(name)
	if dir == "." {
		return d, nil
	}
	for part := range strings.SplitSeq(dir, "/") {
		c := d.children[part]
		if c == nil {
			c = &node{kind: typeDir, mode: 0o755, children: map[string]*node{}}
			d.children[part] = c
		} else if c.kind != typeDir {
			return nil, fmt.Errorf("squashfs: %s: parent %s is not a directory", name, part)
		}
		d = c
	}
	return d, nil
}

// WriteTarEntry adds the entry h, reading a regular file's h.Size bytes from r.
func (s *Writer) WriteTarEntry(h *tar.Header, r io.Reader) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return errors.New("squashfs: write after Close")
	}
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := output.CleanName(h.Name)
	if err != nil {
		return fmt.Errorf("squashfs: %w", err)
	}
	n, err := nodeOf(h)
	if err != nil {
		return fmt.Errorf("squashfs: %s: %w", h.Name, err)
	}
	if name == "." {
		if h.Typeflag != tar.TypeDir {
			return fmt.Errorf("squashfs: %s: the root must be a directory", h.Name)
		}
		s.root.mode, s.root.uid, s.root.gid, s.root.mtime = n.mode, n.uid, n.gid, n.mtime
		return nil
	}
	base := path.Base(name)
	if len(base) > nameMax {
		return fmt.Errorf("squashfs: %s: name longer than %d bytes", h.Name, nameMax)
	}
	parent, err := s.parentDir(name)
	if err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if old := parent.children[base]; old != nil && old.kind == typeDir {
			old.mode, old.uid, old.gid, old.mtime = n.mode, n.uid, n.gid, n.mtime
			return nil
		}
		n.kind = typeDir
		n.children = map[string]*node{}
	case tar.TypeReg, '\x00', tar.TypeGNUSparse, tar.TypeCont:
		if h.Size < 0 {
			return fmt.Errorf("squashfs: %s: negative size", h.Name)
		}
		n.kind = typeReg
		if err := s.writeData(n, h, r); err != nil {
			return s.fail(err)
		}
	case tar.TypeSymlink:
		n.kind = typeSymlink
		n.target = h.Linkname
		if h.Linkname == "" {
			return fmt.Errorf("squashfs: %s: empty symlink target", h.Name)
		}
	case tar.TypeChar, tar.TypeBlock:
		n.kind = typeChar
		if h.Typeflag == tar.TypeBlock {
			n.kind = typeBlock
		}
		if h.Devmajor < 0 || h.Devmajor > 0xfff || h.Devminor < 0 || h.Devminor > 0xfffff {
			return fmt.Errorf("squashfs: %s: device %d:%d out of range", h.Name, h.Devmajor, h.Devminor)
		}
		maj, mnr := uint32(h.Devmajor), uint32(h.Devminor)
		n.rdev = mnr&0xff | maj<<8 | (mnr&^0xff)<<12 // the kernel's new_encode_dev
	case tar.TypeFifo:
		n.kind = typeFifo
	case tar.TypeLink:
		target, err := output.CleanName(h.Linkname)
		if err != nil {
			return fmt.Errorf("squashfs: hard link %s: %w", h.Name, err)
		}
		t := s.lookup(target)
		switch {
		case t == nil:
			return fmt.Errorf("squashfs: hard link %s: target %s is not earlier in the archive", h.Name, h.Linkname)
		case t.kind == typeDir:
			return fmt.Errorf("squashfs: hard link %s: target %s is a directory", h.Name, h.Linkname)
		}
		parent.children[base] = t
		return nil
	default:
		return fmt.Errorf("squashfs: %s: unsupported tar entry type %q", h.Name, h.Typeflag)
	}
	parent.children[base] = n
	return nil
}

func nodeOf(h *tar.Header) (*node, error) {
	if h.Uid < 0 || int64(h.Uid) > math.MaxUint32 || h.Gid < 0 || int64(h.Gid) > math.MaxUint32 {
		return nil, fmt.Errorf("uid/gid %d/%d out of range", h.Uid, h.Gid)
	}
	mt := h.ModTime.Unix()
	if h.ModTime.IsZero() {
		mt = 0
	}
	if mt < 0 || mt > math.MaxUint32 {
		return nil, fmt.Errorf("mtime %s out of squashfs range (1970..2106)", h.ModTime.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return &node{mode: uint16(h.Mode & 0o7777), uid: uint32(h.Uid), gid: uint32(h.Gid), mtime: uint32(mt)}, nil
}

// writeData queues the blocks of a regular file (tail in a fragment if the
// file is shorter than a block).
func (s *Writer) writeData(n *node, h *tar.Header, r io.Reader) error {
	n.size = uint64(h.Size)
	n.fragIdx, n.fragOff = noFragment, 0
	if h.Size == 0 {
		return nil
	}
	if h.Size < BlockSize {
		if s.frag != nil && s.fragLen+int(h.Size) > BlockSize {
			s.flushFrag()
		}
		if s.frag == nil {
			s.frag = blockPool.Get().(*[]byte)
			s.fragLen = 0
		}
		buf := (*s.frag)[s.fragLen : s.fragLen+int(h.Size)]
		if _, err := io.ReadFull(r, buf); err != nil {
			return readErr(h, err)
		}
		n.fragIdx, n.fragOff = uint32(s.nFrags), uint32(s.fragLen)
		s.fragLen += int(h.Size)
		return nil
	}
	nb := (h.Size + BlockSize - 1) / BlockSize
	n.blocks = make([]uint32, nb)
	left := h.Size
	for i := range int(nb) {
		buf := blockPool.Get().(*[]byte)
		k := int(min(left, BlockSize))
		if _, err := io.ReadFull(r, (*buf)[:k]); err != nil {
			blockPool.Put(buf)
			return readErr(h, err)
		}
		s.submit(&job{raw: buf, n: k, file: n, index: i, frag: -1})
		left -= int64(k)
	}
	return nil
}

func readErr(h *tar.Header, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("squashfs: %s: reading data: %w", h.Name, err)
}

func (s *Writer) flushFrag() {
	if s.frag == nil {
		return
	}
	s.submit(&job{raw: s.frag, n: s.fragLen, frag: s.nFrags})
	s.nFrags++
	s.frag, s.fragLen = nil, 0
}
