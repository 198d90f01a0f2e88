package debfile

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The ar format as written by dpkg-deb (and binutils ar): an 8-byte magic,
// then for each member a 60-byte text header followed by the data, padded
// to an even offset.
const (
	arMagic     = "!<arch>\n"
	arHeaderLen = 60
)

// member is one ar member: its name and where its data lies in the file.
type member struct {
	name   string
	offset int64
	size   int64
}

// readAr lists the members of the ar archive r of the given size. It reads
// only the headers, so listing a large package costs a few small reads.
func readAr(r io.ReaderAt, size int64) ([]member, error) {
	magic := make([]byte, len(arMagic))
	if _, err := r.ReadAt(magic, 0); err != nil || string(magic) != arMagic {
		return nil, fmt.Errorf("not an ar archive (no %q magic)", strings.TrimSpace(arMagic))
	}
	var members []member
	hdr := make([]byte, arHeaderLen)
	for off := int64(len(arMagic)); off < size; {
		// A single newline may pad the archive's end; some writers add it.
		if size-off == 1 {
			break
		}
		if size-off < arHeaderLen {
			return nil, fmt.Errorf("ar: truncated header at offset %d", off)
		}
		if _, err := r.ReadAt(hdr, off); err != nil {
			return nil, fmt.Errorf("ar: reading header at offset %d: %w", off, err)
		}
		if string(hdr[58:60]) != "`\n" {
			return nil, fmt.Errorf("ar: bad header terminator at offset %d", off)
		}
		// GNU ar ends names with "/"; dpkg-deb pads them with spaces only.
		name := strings.TrimSuffix(string(bytes.TrimRight(hdr[0:16], " ")), "/")
		n, err := strconv.ParseInt(string(bytes.TrimRight(hdr[48:58], " ")), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("ar: member %q: bad size %q", name, bytes.TrimSpace(hdr[48:58]))
		}
		data := off + arHeaderLen
		if n > size-data {
			return nil, fmt.Errorf("ar: member %q: %d bytes at offset %d run past the end of the %d-byte file", name, n, data, size)
		}
		members = append(members, member{name: name, offset: data, size: n})
		off = data + n + n%2
	}
	return members, nil
}
