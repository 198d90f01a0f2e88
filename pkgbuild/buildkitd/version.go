package buildkitd

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/moby/buildkit/client"
)

// buildkitModule is the module whose version go.mod pins; bin/buildkitd is
// built from it by `make`.
const buildkitModule = "github.com/moby/buildkit"

// ErrVersionMismatch is wrapped by the errors CheckVersion returns when a
// builder does not run the pinned BuildKit version.
var ErrVersionMismatch = errors.New("BuildKit version mismatch")

// mismatchHint tells the user how to get out of a version mismatch.
const mismatchHint = "rebuild bin/buildkitd with `make`, or pass --allow-builder-version-mismatch"

var pinnedVersion = sync.OnceValue(func() string {
	bi, _ := debug.ReadBuildInfo()
	if v := pinnedFromBuildInfo(bi); v != "" {
		return v
	}
	return pinnedFromSourcePath(clientSourceFile())
})

// pinnedFromBuildInfo finds the buildkit module among the build's
// dependencies, honouring a replacement ("" for a directory replacement).
func pinnedFromBuildInfo(bi *debug.BuildInfo) string {
	if bi == nil {
		return ""
	}
	for _, m := range bi.Deps {
		if m.Path == buildkitModule {
			if m.Replace != nil {
				return m.Replace.Version
			}
			return m.Version
		}
	}
	return ""
}

// clientSourceFile is the source file the linked buildkit client was
// compiled from.
func clientSourceFile() string {
	f := runtime.FuncForPC(reflect.ValueOf(client.New).Pointer())
	if f == nil {
		return ""
	}
	file, _ := f.FileLine(f.Entry())
	return file
}

// pinnedFromSourcePath extracts the module version from a source path in
// the module cache, ".../github.com/moby/buildkit@v0.33.1/client/client.go"
// (also the -trimpath form). Test binaries carry no dependency list in their
// build info, but their code still comes from the module cache; vendored or
// directory-replaced code has no version in its path and gives "".
func pinnedFromSourcePath(file string) string {
	const prefix = buildkitModule + "@"
	i := strings.Index(file, prefix)
	if i < 0 || (i > 0 && file[i-1] != '/') {
		return ""
	}
	v, _, ok := strings.Cut(file[i+len(prefix):], "/")
	if !ok {
		return ""
	}
	return v
}

// PinnedVersion is the version of github.com/moby/buildkit that lkpkg was
// built with (the one go.mod pins), e.g. "v0.33.1", from the binary's build
// info (or, where that lists no dependencies as in test binaries, from the
// module-cache path of the linked buildkit code); "" if neither says.
func PinnedVersion() string { return pinnedVersion() }

// CheckVersion asks the builder behind c for its BuildKit version and
// returns it, with an error (wrapping ErrVersionMismatch) when it is not
// PinnedVersion(). The Dockerfile frontend built into buildkitd shapes the
// output, so a different version could give the same tag a different
// digest.
func CheckVersion(ctx context.Context, c *client.Client) (string, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return "", fmt.Errorf("builder: cannot get its BuildKit version: %w", err)
	}
	v := info.BuildkitVersion.Version
	return v, versionError(v, PinnedVersion())
}

// versionError compares a daemon's reported version with the pinned one.
func versionError(got, pinned string) error {
	switch {
	case pinned == "":
		return fmt.Errorf("%w: builder runs BuildKit %s, but this lkpkg binary does not record which %s version it was built with; %s",
			ErrVersionMismatch, quoteEmpty(got), buildkitModule, mismatchHint)
	case got == pinned:
		return nil
	case got == "" || strings.Contains(got, "unknown"):
		// buildkit's version.Version defaults to "v0.0.0+unknown" unless
		// set at link time.
		return fmt.Errorf("%w: builder reports BuildKit version %s, not the pinned %s: its buildkitd was built without "+
			"-ldflags \"-X %s/version.Version=%s\", so its version cannot be verified; %s",
			ErrVersionMismatch, quoteEmpty(got), pinned, buildkitModule, pinned, mismatchHint)
	default:
		return fmt.Errorf("%w: builder runs BuildKit %s but lkpkg pins %s (go.mod); its built-in Dockerfile frontend "+
			"shapes the image, so the same tag could get a different digest; %s",
			ErrVersionMismatch, got, pinned, mismatchHint)
	}
}

func quoteEmpty(v string) string {
	if v == "" {
		return `""`
	}
	return v
}
