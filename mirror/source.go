package mirror

import (
	"context"
	"io"
	"time"
)

// Source is one kind of upstream mirror.yml names: Alpine repositories
// (apkSource), Debian archives (debSource) or Go toolchains and modules
// (goSource). Every stage of a mirror (inputs, lock, fetch, image) loops
// over the sources in mirror.yml's order, so a new kind is one new
// implementation, not a new branch in every stage.
//
// The methods are unexported: a source writes its own part of the Lock,
// Contents and image, which only this package defines.
type Source interface {
	// arches names the mirror.yml field listing the source's arches and
	// gives them as GOARCH names: every source must build the same ones.
	arches() (field string, goarches []string)
	// writeInputs adds what decides the source's resolution to the
	// lock's inputs digest; l gives what it pinned that decides it too
	// (the Alpine root filesystems).
	writeInputs(w io.Writer, l *Lock) error
	// lock resolves the source against its signed upstream into l.
	lock(ctx context.Context, l *Lock, opts Options) error
	// checkLock checks the source's part of a lock read from disk.
	checkLock(l *Lock) error
	// fetch downloads and verifies everything the source's part of l
	// names into out.
	fetch(ctx context.Context, l *Lock, opts Options, out *Contents, stats *FetchStats) error
	// prepareImage loads what packing the image needs beyond the fetched
	// files (the Alpine repository's signing key).
	prepareImage(opts Options, epoch time.Time) error
	// layers are the layers and config settings the source adds to the
	// image of goarch, in order.
	layers(goarch string, l *Lock, contents *Contents, epoch time.Time, tmp *tempLayers) ([]namedLayer, imageSettings, error)
	// writeTag adds how the source is laid out to the tag's inputs;
	// writeTagTail adds lines that the tag has always hashed after every
	// source's writeTag (the Alpine root filesystems).
	writeTag(w io.Writer, l *Lock) error
	writeTagTail(w io.Writer, l *Lock) error
}

// Sources are the sources mirror.yml names, in the order their inputs,
// layers and tag lines have always been written: Alpine, Debian, Go.
func (c *Config) Sources() []Source {
	var out []Source
	if c.HasAlpine() {
		out = append(out, &apkSource{c: c})
	}
	if c.Debian != nil {
		out = append(out, &debSource{c: c})
	}
	if c.Go != nil {
		out = append(out, &goSource{c: c})
	}
	return out
}

// imageSettings are what sources add to the image config.
type imageSettings struct {
	env  []string
	path string // prepended to PATH
}

// add merges the settings of the next source.
func (s *imageSettings) add(o imageSettings) {
	s.env = append(s.env, o.env...)
	s.path += o.path
}

// noTagTail is for sources that add nothing after the other sources'
// tag lines.
type noTagTail struct{}

func (noTagTail) writeTagTail(io.Writer, *Lock) error { return nil }

// noImagePrep is for sources whose layers need only the fetched files.
type noImagePrep struct{}

func (noImagePrep) prepareImage(Options, time.Time) error { return nil }
