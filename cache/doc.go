// Package cache is lkpkg's local image cache: an OCI image layout on disk
// (oci-layout, index.json, blobs/sha256/<hex>) that is safe to share between
// concurrent processes and survives crashes.
//
// Safety rests on three rules:
//   - every file is written under tmp/, fsynced, then renamed into place, so a
//     reader never sees a partial blob or a partial index.json;
//   - blobs are stored before index.json is updated to reference them, so a
//     crash leaves at worst unreferenced blobs (removed by Prune);
//   - writers (WriteIndex, Remove, Import, Prune) serialise their
//     read-modify-write of index.json, and garbage collection, under an
//     exclusive flock on lkpkg.lock. Readers take no lock.
//
// Prune treats tmp/ entries older than an hour as debris of crashed
// writers, except directories made by TempDir: each holds a flock on
// tmp/<name>.lock for as long as its owner runs, and Prune skips any entry
// whose lock it cannot take. ContentStore, handed to BuildKit, is read-only.
//
// Because readers are lock-free, a reader racing a Remove or Prune of the
// very ref it is reading may find a blob gone; it gets an error naming the
// blob, never wrong data.
package cache
