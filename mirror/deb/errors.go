package deb

import (
	"errors"

	"github.com/lkpkg/lkpkg/mirror/download"
)

// Sentinel errors, wrapped with context (suite, key, file) by the functions
// that return them, so callers can tell refusals apart with errors.Is.
var (
	// ErrNotClearsigned: the InRelease is not a single clearsigned message
	// (unsigned, detached or with data outside the signed part).
	ErrNotClearsigned = errors.New("not a clearsigned InRelease")
	// ErrBadSignature: a trusted key's signature does not match the text.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnknownKey: every signature was made by a key not in the keyring.
	ErrUnknownKey = errors.New("signed only by unknown keys")
	// ErrKeyExpired: the signing key (or its binding) has expired.
	ErrKeyExpired = errors.New("signing key expired")
	// ErrKeyRevoked: the signing key has been revoked.
	ErrKeyRevoked = errors.New("signing key revoked")
	// ErrWeakDigest: a signature uses a digest weaker than SHA-256 (MD5,
	// SHA-1 and RIPEMD-160, which apt refuses, or SHA-224).
	ErrWeakDigest = errors.New("weak signature digest")
	// ErrSignatureExpired: the signature itself has expired or was made in
	// the future.
	ErrSignatureExpired = errors.New("signature expired")
	// ErrReleaseExpired: the InRelease's Valid-Until is in the past.
	ErrReleaseExpired = errors.New("release expired (Valid-Until in the past)")
	// ErrNotYetValid: the InRelease's Date is in the future.
	ErrNotYetValid = errors.New("release not yet valid (Date in the future)")
	// ErrHashMismatch: downloaded bytes do not match the pinned SHA256/size.
	ErrHashMismatch = download.ErrMismatch
)
