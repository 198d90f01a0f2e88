package deb

import (
	"fmt"
	"io"
	"strings"

	"github.com/lkpkg/lkpkg/mirror/debfile"
)

// Package is one stanza of a Packages index. Strings share the memory of
// the index text they were parsed from.
type Package struct {
	Name, Version, Architecture string
	// MultiArch is "", "no", "same", "foreign" or "allowed".
	MultiArch string
	// Source is the source package name: the Source field without its
	// "(version)" part, or Name when the field is absent.
	Source string
	// SourceVersion is the version in "Source: name (version)", else Version.
	SourceVersion string
	Essential     bool
	Priority      string

	Depends, PreDepends, Provides, Conflicts, Breaks []Relation

	// Filename is relative to the archive root, checked to stay inside it.
	Filename string
	SHA256   string
	Size     int64
	// InstalledSize is in KiB, as in the index (0 when absent).
	InstalledSize int64

	// Repository labels where the stanza came from ("bookworm/main"), for
	// error messages and lock files.
	Repository string
}

// String returns "name version arch".
func (p *Package) String() string {
	return p.Name + " " + p.Version + " " + p.Architecture
}

// ParsePackages parses a Packages index. Unknown fields are skipped; a
// stanza missing Package, Version, Architecture, Filename, SHA256 or Size,
// or with a value that fails validation (hostile Filename, name or version
// outside Debian's character set, unparsable relation) fails the whole
// parse with the stanza's line number: an index is verified input, so
// anything odd in it is a reason to stop, not to guess.
func ParsePackages(r io.Reader, repository string) ([]*Package, error) {
	text, err := readAllString(r, 0)
	if err != nil {
		return nil, fmt.Errorf("deb: read Packages (%s): %w", repository, err)
	}
	return parsePackagesText(text, repository)
}

// readAllString reads r into one string without the extra copy of
// string(io.ReadAll(r)); sizeHint (or r's Len) presizes the buffer.
func readAllString(r io.Reader, sizeHint int64) (string, error) {
	var sb strings.Builder
	if l, ok := r.(interface{ Len() int }); ok && sizeHint <= 0 {
		sizeHint = int64(l.Len())
	}
	if sizeHint > 0 && sizeHint < 1<<32 {
		sb.Grow(int(sizeHint))
	}
	_, err := io.Copy(&sb, r)
	return sb.String(), err
}

// slabSize is how many Package structs parsePackagesText allocates at once.
const slabSize = 256

func parsePackagesText(text, repository string) ([]*Package, error) {
	// Stanzas are allocated in slabs: a few hundred allocations instead
	// of ~64k for a full index. Average stanzas are ~800 bytes.
	var (
		slab  []Package
		arena = &relArena{}
		pkgs  = make([]*Package, 0, len(text)/800+1)
		cur   *Package
		seen  uint32 // fields already set in cur, by id
		start int    // line of cur's first field
	)
	finish := func() error {
		if cur == nil {
			return nil
		}
		if err := checkPackage(cur, seen); err != nil {
			return fmt.Errorf("deb: Packages (%s) line %d: %w", repository, start, err)
		}
		pkgs = append(pkgs, cur)
		cur = nil
		return nil
	}
	sc := debfile.NewScanner(text)
	for {
		ok, err := sc.Next()
		if err != nil {
			return nil, fmt.Errorf("deb: Packages (%s): %w", repository, err)
		}
		if !ok {
			break
		}
		if sc.NewStanza || cur == nil {
			if err := finish(); err != nil {
				return nil, err
			}
			if len(slab) == cap(slab) {
				slab = make([]Package, 0, slabSize)
			}
			slab = slab[:len(slab)+1]
			cur = &slab[len(slab)-1]
			cur.Repository = repository
			seen, start = 0, sc.Line
		}
		id := fieldID(sc.Name)
		if id < 0 {
			continue
		}
		if seen&(1<<id) != 0 {
			return nil, fmt.Errorf("deb: Packages (%s) line %d: duplicate field %s", repository, sc.Line, sc.Name)
		}
		seen |= 1 << id
		if err := setPackageField(cur, id, sc.Value, arena); err != nil {
			what := cur.Name
			if what == "" {
				what = "stanza"
			}
			return nil, fmt.Errorf("deb: Packages (%s) line %d: %s: field %s: %w", repository, sc.Line, what, sc.Name, err)
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return pkgs, nil
}
