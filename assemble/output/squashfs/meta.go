package squashfs

import (
	"bytes"
	"encoding/binary"

	"github.com/klauspost/compress/zlib"
)

// metaTable builds a metadata table: 8 KiB blocks, each compressed (or raw if
// that is not smaller) behind a 2-byte header.
type metaTable struct {
	out    bytes.Buffer
	cur    []byte
	starts []uint64 // offset of each block in out
	tmp    bytes.Buffer
	zw     *zlib.Writer
	err    error
}

// pos is where the next byte goes: block start in the table, offset in it.
func (m *metaTable) pos() (uint64, uint16) { return uint64(m.out.Len()), uint16(len(m.cur)) }

func (m *metaTable) ref() uint64 {
	b, o := m.pos()
	return b<<16 | uint64(o)
}

// uncompressed is the number of bytes written so far.
func (m *metaTable) uncompressed() uint64 {
	return uint64(len(m.starts))*metaBlockSize + uint64(len(m.cur))
}

// blockStart is the table offset of the block that holds the byte at
// uncompressed position u (written, or in the block being filled).
func (m *metaTable) blockStart(u uint64) uint64 {
	if b := u / metaBlockSize; b < uint64(len(m.starts)) {
		return m.starts[b]
	}
	return uint64(m.out.Len())
}

func (m *metaTable) write(p []byte) {
	for len(p) > 0 {
		k := min(len(p), metaBlockSize-len(m.cur))
		m.cur = append(m.cur, p[:k]...)
		p = p[k:]
		if len(m.cur) == metaBlockSize {
			m.flush()
		}
	}
}

func (m *metaTable) flush() {
	if len(m.cur) == 0 {
		return
	}
	m.starts = append(m.starts, uint64(m.out.Len()))
	m.tmp.Reset()
	if m.zw == nil {
		m.zw, m.err = zlib.NewWriterLevel(&m.tmp, compressionLevel)
	} else {
		m.zw.Reset(&m.tmp)
	}
	if m.err == nil {
		_, m.err = m.zw.Write(m.cur)
	}
	if m.err == nil {
		m.err = m.zw.Close()
	}
	var hdr [2]byte
	if m.tmp.Len() < len(m.cur) {
		binary.LittleEndian.PutUint16(hdr[:], uint16(m.tmp.Len()))
		m.out.Write(hdr[:])
		m.out.Write(m.tmp.Bytes())
	} else {
		binary.LittleEndian.PutUint16(hdr[:], uint16(len(m.cur))|metaRaw)
		m.out.Write(hdr[:])
		m.out.Write(m.cur)
	}
	m.cur = m.cur[:0]
}
