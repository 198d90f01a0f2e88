package output

import (
	"encoding/binary"
	"io"
)

// AllZero reports whether b holds only zero bytes: such blocks are left as
// holes (squashfs sparse blocks, unallocated qcow2 clusters).
func AllZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// CountingWriter counts the bytes written through it, for writers that need
// the size of what they wrote (padding, layouts).
type CountingWriter struct {
	W io.Writer
	N int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
