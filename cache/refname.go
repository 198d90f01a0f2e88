package cache

import (
	"fmt"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
)

// checkRefName refuses a ref that is not an image reference, so that no
// name from outside (a tar's index.json) can carry a newline into
// `cache ls` or a path such as ../../etc/passwd into a later command.
// go-containerregistry's parser, which the cache matches names with,
// accepts path components such as ".." and "-x"; the distribution
// grammar refuses them. Both must accept the ref. (Strict validation in
// go-containerregistry would also demand an explicit registry, which
// lkpkg's own refs such as lkpkg/dhcpcd:<tag> do not have.)
//
// The parsers' own errors are left out: they quote the ref unescaped.
func checkRefName(ref string) error {
	_, err1 := name.ParseReference(ref)
	_, err2 := reference.ParseNormalizedNamed(ref)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("ref %q is not a valid image reference: want [registry/]path[:tag][@digest], "+
			"the path in lower-case components of letters and digits joined by '.', '_' or '-'", ref)
	}
	return nil
}
