package assemble

// The lock file: every image reference of an image YAML pinned to a digest,
// written beside the YAML as NAME.lock (NAME.yml -> NAME.lock), so that a
// rebuild uses exactly the same images even if tags move.
//
// Format: comment lines start with "#"; every other line is
// "REFERENCE DIGEST", sorted by reference. The reference is written as in
// the YAML; lookups compare normalised names ("linuxkit/init:v1" finds
// "docker.io/linuxkit/init:v1").

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lkpkg/lkpkg/internal/atomicfile"
)

// Lock maps image references to the digests they were resolved to.
type Lock struct {
	entries map[string]lockEntry // normalised name -> entry
}

type lockEntry struct {
	ref    string // as written
	digest v1.Hash
}

// NewLock returns an empty lock.
func NewLock() *Lock { return &Lock{entries: map[string]lockEntry{}} }

// LockPath is the lock file of an image YAML: the same name with the
// extension .yml or .yaml replaced by .lock.
func LockPath(yamlPath string) string {
	ext := filepath.Ext(yamlPath)
	if ext == ".yml" || ext == ".yaml" {
		return strings.TrimSuffix(yamlPath, ext) + ".lock"
	}
	return yamlPath + ".lock"
}

// refKey is ref's normalised name ("linuxkit/init:v1" and
// "docker.io/linuxkit/init:v1" have the same), or ref if it does not parse.
func refKey(ref string) string {
	if p, err := name.ParseReference(ref); err == nil {
		return p.Name()
	}
	return ref
}

// Set pins ref to d.
func (l *Lock) Set(ref string, d v1.Hash) {
	l.entries[refKey(ref)] = lockEntry{ref: ref, digest: d}
}

// Get returns the digest ref is pinned to.
func (l *Lock) Get(ref string) (v1.Hash, bool) {
	e, ok := l.entries[refKey(ref)]
	return e.digest, ok
}

// Len is the number of pinned references.
func (l *Lock) Len() int { return len(l.entries) }

// Marshal encodes the lock in its file format (deterministic).
func (l *Lock) Marshal() []byte {
	refs := make([]lockEntry, 0, len(l.entries))
	for _, e := range l.entries {
		refs = append(refs, e)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].ref < refs[j].ref })
	var b bytes.Buffer
	b.WriteString("# lkpkg build lock: the image references of the YAML beside it, pinned to digests.\n")
	b.WriteString("# Refresh with `lkpkg build --update-lock`.\n")
	for _, e := range refs {
		fmt.Fprintf(&b, "%s %s\n", e.ref, e.digest)
	}
	return b.Bytes()
}

// ParseLock decodes a lock file; file is used in error messages.
func ParseLock(file string, data []byte) (*Lock, error) {
	l := NewLock()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"REFERENCE DIGEST\", got %q", file, n, line)
		}
		if _, err := name.ParseReference(f[0]); err != nil {
			return nil, fmt.Errorf("%s:%d: %q is not an image reference: %v", file, n, f[0], err)
		}
		d, err := v1.NewHash(f[1])
		if err != nil || d.Algorithm != "sha256" {
			return nil, fmt.Errorf("%s:%d: %q is not a sha256 digest", file, n, f[1])
		}
		if _, dup := l.entries[refKey(f[0])]; dup {
			return nil, fmt.Errorf("%s:%d: %s is pinned twice", file, n, f[0])
		}
		l.Set(f[0], d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return l, nil
}

// ReadLock reads a lock file; ok is false if it does not exist.
func ReadLock(path string) (l *Lock, ok bool, err error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	l, err = ParseLock(path, data)
	return l, err == nil, err
}

// WriteLock writes the lock file atomically.
func WriteLock(path string, l *Lock) error {
	return atomicfile.WriteFile(path, l.Marshal(), 0o644)
}
