// Package apksign reads, verifies and writes the signed file formats of
// Alpine's apk-tools v2: APKINDEX.tar.gz repository indexes and .apk packages.
//
// Both formats are a concatenation of gzip members, each holding a tar
// segment:
//
//	index:   [signature] [DESCRIPTION + APKINDEX]
//	package: [signature] [control: .PKGINFO, scripts] [data]
//
// The signature member holds one or more files named
// ".SIGN.<type>.<keyname>" (type RSA = SHA-1, RSA256 = SHA-256, RSA512 =
// SHA-512) with a PKCS#1 v1.5 signature over the *compressed* bytes of the
// member that follows it. Signature and control segments carry no tar
// end-of-archive blocks, so the whole file reads as one tar archive.
//
// In a package the data member is bound to the signature by the "datahash"
// (hex SHA-256 of its compressed bytes) in .PKGINFO, and the package's
// identity in an index (the C: field) is "Q1" + base64(SHA-1 of the
// compressed control member).
package apksign
