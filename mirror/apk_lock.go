package mirror

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

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

// cacheName is the download cache file for a package: the hex of the
// checksum, which (through the signed control segment's data hash) pins
// the whole file.
func (p LockedPackage) cacheName() (string, error) {
	q, ok := strings.CutPrefix(p.Checksum, "Q1")
	if !ok {
		return "", fmt.Errorf("%s-%s: checksum %q is not a Q1 checksum", p.Name, p.Version, p.Checksum)
	}
	raw, err := base64.StdEncoding.DecodeString(q)
	if err != nil || len(raw) != 20 {
		return "", fmt.Errorf("%s-%s: malformed checksum %q", p.Name, p.Version, p.Checksum)
	}
	return hex.EncodeToString(raw) + ".apk", nil
}

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
	if _, err := p.cacheName(); err != nil {
		return err
	}
	return nil
}
