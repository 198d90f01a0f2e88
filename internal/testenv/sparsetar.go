package testenv

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// WriteSparseEntry writes to w one tar entry named name that declares
// size bytes as a PAX (GNU 1.0) sparse file with no data at all: about
// 1.5 KB that a tar reader expands to size zero bytes. archive/tar cannot
// write sparse files, so the blocks are built by hand. Entries written
// before and after it with a tar.Writer (flushed first) stay valid.
func WriteSparseEntry(w io.Writer, name string, size int64) error {
	var pax bytes.Buffer
	for _, kv := range [][2]string{
		{"GNU.sparse.major", "1"},
		{"GNU.sparse.minor", "0"},
		{"GNU.sparse.name", name},
		{"GNU.sparse.realsize", strconv.FormatInt(size, 10)},
	} {
		pax.WriteString(paxRecord(kv[0], kv[1]))
	}
	// The 1.0 sparse map, in the file's data: no fragments, all hole.
	sparseMap := padBlock([]byte("0\n"))
	var out bytes.Buffer
	out.Write(ustarHeader("PaxHeaders/sparse", 'x', int64(pax.Len())))
	out.Write(padBlock(pax.Bytes()))
	out.Write(ustarHeader("GNUSparseFile.0/sparse", '0', int64(len(sparseMap))))
	out.Write(sparseMap)
	_, err := w.Write(out.Bytes())
	return err
}

// paxRecord is "<length> key=value\n", the length counting itself.
func paxRecord(k, v string) string {
	rest := " " + k + "=" + v + "\n"
	n := len(rest) + 1
	for len(strconv.Itoa(n))+len(rest) != n {
		n++
	}
	return strconv.Itoa(n) + rest
}

// ustarHeader is one 512-byte ustar header block.
func ustarHeader(name string, typeflag byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], "00000000000\x00")
	b[156] = typeflag
	copy(b[257:265], "ustar\x0000")
	copy(b[148:156], "        ") // the checksum counts its own field as spaces
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// padBlock pads b with zeros to a multiple of 512 bytes.
func padBlock(b []byte) []byte {
	return append(b, make([]byte, (512-len(b)%512)%512)...)
}
