// Package mirror is the resolve and fetch stage for a package's base:
// pinned, verified, offline copies of upstream software, packed as a
// reproducible OCI image that package builds use as their FROM with the
// network off.
//
// mirror.yml (Config) names the upstreams. Each kind is a Source:
//
//	apkSource  Alpine repositories and a base root filesystem (apk_*.go;
//	           index, resolver and signatures in apk/ and apksign/)
//	debSource  signed Debian archives (debian*.go; deb/, debfile/, rootfs/)
//	goSource   Go toolchains and module closures (golang*.go; gomod/)
//
// The stages loop over Config.Sources():
//
//	LockAndWrite  resolve every source against its signed upstream and pin
//	              the closure by checksum in mirror.lock (Lock)
//	Fetch         download exactly what the lock names into the download
//	              caches, verifying every file
//	Build         write the offline repositories (the APK index signed with
//	              the mirror's own key) and store the image as org/image:Tag
//
// The tag (Tag, TagInputs) hashes the lock, the mirror's public key and
// how each source is laid out, so the same lock gives the same image,
// bit for bit. Options carry everything machine-specific (upstream copies,
// download caches, the private key); the package reads no environment
// variables: cmd/lkpkg does.
package mirror
