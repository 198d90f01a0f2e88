package mirror

import (
	"fmt"
	"slices"

	"github.com/lkpkg/lkpkg/mirror/apk"
)

// LockedIndex is one upstream index seen when locking.
type LockedIndex struct {
	Repository string `yaml:"repository"`
	Arch       string `yaml:"arch"`
	SHA256     string `yaml:"sha256"` // of APKINDEX.tar.gz
	SignedBy   string `yaml:"signed-by"`
}

// LockedPackage pins one package.
type LockedPackage struct {
	Name       string `yaml:"name"`
	Version    string `yaml:"version"`
	Arch       string `yaml:"arch"`
	Repository string `yaml:"repository"`
	Checksum   string `yaml:"checksum"` // the index's C: (Q1 + base64 SHA-1 of the control segment)
	Size       int64  `yaml:"size"`
}

// Filename is the package's file name in a repository.
func (p LockedPackage) Filename() string { return p.Name + "-" + p.Version + ".apk" }

// validate checks a locked entry before any of it becomes a URL or a file
// name: a hand-edited lock must not reach outside the repository.
func (p LockedPackage) validate(c *Config, arch string) error {
	switch {
	case !apk.ValidName(p.Name):
		return fmt.Errorf("package name %q is not valid", p.Name)
	case !apk.ValidVersion(p.Version):
		return fmt.Errorf("%s: version %q is not valid", p.Name, p.Version)
	case p.Arch != arch:
		return fmt.Errorf("%s-%s: arch %q, locked under %s", p.Name, p.Version, p.Arch, arch)
	case !slices.Contains(c.Repositories, p.Repository):
		return fmt.Errorf("%s-%s: repository %q is not in mirror.yml", p.Name, p.Version, p.Repository)
	case p.Size <= 0:
		return fmt.Errorf("%s-%s: size %d", p.Name, p.Version, p.Size)
	}
	if _, err := cacheName(p); err != nil {
		return err
	}
	return nil
}
