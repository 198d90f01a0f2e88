// Package apk models Alpine APK repositories: it parses APKINDEX text,
// compares apk versions and resolves dependencies the way apk-tools 2.14
// (Alpine v3.19) does, so that a mirror can compute exactly the set of
// packages `apk add` would install without running apk itself.
//
// Signature checking and tar.gz handling live in mirror/apksign; this
// package only sees the plain APKINDEX text.
//
// Resolve models `apk add` on an empty root; ResolveOnRoot models it inside
// an existing root (its lib/apk/db/installed and /etc/apk/world, see
// ReadRoot), where installed packages are kept unless a constraint forces
// a change. Both are checked against the real apk 2.14.4 by the
// expectations testdata/expect.sh records.
package apk
