package debfile

import (
	"bufio"
	"compress/bzip2"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// Compression suffixes dpkg accepts for each tar member. dpkg picks the
// decompressor from the member name, not from magic bytes, and so do we:
// a mislabelled member is an error rather than a guess.
var (
	controlSuffixes = []string{"", ".gz", ".xz", ".zst"}
	dataSuffixes    = []string{"", ".gz", ".xz", ".zst", ".bz2", ".lzma"}
)

// tarSuffix reports the compression suffix of name if it is base + ".tar"
// + one of suffixes.
func tarSuffix(name, base string, suffixes []string) (string, bool) {
	rest, ok := strings.CutPrefix(name, base+".tar")
	if !ok {
		return "", false
	}
	for _, s := range suffixes {
		if rest == s {
			return s, true
		}
	}
	return "", false
}

// decompress wraps r in the decompressor for suffix. Closing the result
// releases the decompressor (zstd keeps goroutines until closed); it does
// not close r.
func decompress(r io.Reader, suffix string) (io.ReadCloser, error) {
	// Some decompressors (xz, bzip2) read a byte at a time: without a
	// buffer each byte would be a read system call on the .deb file.
	r = bufio.NewReaderSize(r, 1<<16)
	switch suffix {
	case "":
		return io.NopCloser(r), nil
	case ".gz":
		return gzip.NewReader(r)
	case ".xz":
		// Real .debs hold one xz stream; SingleStream also rejects
		// trailing garbage instead of silently ignoring it.
		zr, err := xz.ReaderConfig{SingleStream: true}.NewReader(r)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(zr), nil
	case ".zst":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	case ".bz2":
		return io.NopCloser(bzip2.NewReader(r)), nil
	case ".lzma":
		zr, err := lzma.NewReader(r)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(zr), nil
	}
	return nil, fmt.Errorf("unsupported compression %q", suffix)
}
