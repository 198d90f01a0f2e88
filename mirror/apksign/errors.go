package apksign

import "errors"

// Sentinel errors let callers (the mirror) tell a hostile or broken upstream
// file apart from an I/O problem; returned errors wrap them with detail.
var (
	// ErrUntrusted means the file is signed, but by no key in the keyring.
	ErrUntrusted = errors.New("untrusted signing key")
	// ErrBadSignature means a signature by a trusted key does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnsigned means the file carries no signature at all.
	ErrUnsigned = errors.New("not signed")
	// ErrChecksum means a content checksum (C: field or datahash) differs.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrMalformed means the file is truncated or not in apk v2 format.
	ErrMalformed = errors.New("malformed apk archive")
	// ErrTruncated means the file ends early; it comes wrapped together
	// with ErrMalformed.
	ErrTruncated = errors.New("file is truncated")
)
