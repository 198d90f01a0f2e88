package mirror

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
)

// sha256Hex is the hex SHA-256 of b, as locks, inputs and tags spell it.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// tagOf is the mirror image tag for tag inputs: their SHA-256, shortened.
func tagOf(in []byte) string { return sha256Hex(in)[:40] }

// readSHA256 reads r to its end and returns the hex SHA-256 and size of
// what it read.
func readSHA256(r io.Reader) (sum string, n int64, err error) {
	h := sha256.New()
	if n, err = io.Copy(h, r); err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// fileSHA256 is the hex SHA-256 of the file at p.
func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum, _, err := readSHA256(f)
	return sum, err
}
