package mirror

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/lkpkg/lkpkg/mirror/apk"
)

// A signature says an index is Alpine's, not which index it is: any
// signed APKINDEX.tar.gz (an old release's, another arch's) verifies at
// any path. checkIndex ties the signed content to the path it was read
// from, so a replayed or misplaced index is refused before it is resolved.

// releaseComponent is a release branch as a repository path names it
// ("v3.19" in "v3.19/main").
var releaseComponent = regexp.MustCompile(`^v([0-9]+\.[0-9]+)$`)

// releaseOf is the release branch a repository path names ("3.19" for
// "v3.19/main"), or "" for paths that name none ("edge/main", a custom
// repository): those are checked for arch only.
func releaseOf(repository string) string {
	for _, c := range strings.Split(repository, "/") {
		if m := releaseComponent.FindStringSubmatch(c); m != nil {
			return m[1]
		}
	}
	return ""
}

// descriptionIsRelease says whether an index's DESCRIPTION (`git describe`
// of aports when it was built: "v3.19.1-643-gec825d20535", or "3.19.1"
// on a release ISO) belongs to the release branch.
func descriptionIsRelease(desc, release string) bool {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(strings.TrimSpace(desc), "v"), release)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '-')
}

// checkIndex refuses an index of repository for arch whose DESCRIPTION
// names another release than the path, or that lists a package of
// another arch. Alpine's indexes list noarch packages under the
// repository's arch, so every A: must be arch.
func checkIndex(repository, arch, description string, pkgs []apk.Package) error {
	if rel := releaseOf(repository); rel != "" && !descriptionIsRelease(description, rel) {
		return fmt.Errorf("%s (%s): the index's DESCRIPTION is %.80q, expected a v%s release (\"v%s.*\"): refusing an index of another release served at this path",
			repository, arch, description, rel, rel)
	}
	var wrong []apk.Package
	for _, p := range pkgs {
		if p.Arch != arch {
			wrong = append(wrong, p)
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("%s (%s): %d of %d packages are not for %s, e.g. %s has arch %q (A:): refusing an index of another arch served at this path",
			repository, arch, len(wrong), len(pkgs), arch, wrong[0], wrong[0].Arch)
	}
	return nil
}
