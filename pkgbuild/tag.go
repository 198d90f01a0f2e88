package pkgbuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/lkpkg/lkpkg/mirror"
)

// BuildFormat is mixed into every tag; bump it whenever the way lkpkg turns
// the same inputs into an image changes, so old cache entries are not reused.
const BuildFormat = "lkpkg-build-v3"

// inputs writes the canonical description of everything a build depends
// on. The tag is a hash of it; `pkg show-tag --inputs` prints it.
func inputs(p *Package) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "format %s\n", BuildFormat)
	fmt.Fprintf(&b, "dockerfile %s\n", p.DockerfilePath)
	fmt.Fprintf(&b, "platforms %s\n", strings.Join(p.Platforms(), ","))
	fmt.Fprintf(&b, "source-date-epoch %d\n", p.Epoch)
	fmt.Fprintf(&b, "network %t\n", p.Config.Network)
	if p.Config.Config != nil {
		label, err := p.Config.Config.LabelValue()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "config %s\n", label)
	}
	// A tree package is named by image and tag, not by org: --org changes
	// where images are stored, not what they contain.
	for _, k := range sortedKeys(p.BuildArgs) {
		if dep, ok := p.pkgArgs[k]; ok {
			fmt.Fprintf(&b, "build-arg %s=package %s:%s\n", k, dep.Image, dep.Tag)
			continue
		}
		fmt.Fprintf(&b, "build-arg %s=%q\n", k, p.BuildArgs[k])
	}
	var bases []string
	for ref, base := range p.Bases {
		if base.Pkg != nil {
			// A tree package's tag already hashes all of its inputs.
			bases = append(bases, fmt.Sprintf("base package %s:%s", base.Pkg.Image, base.Pkg.Tag))
		} else {
			bases = append(bases, fmt.Sprintf("base %s %s", ref, base.Digest))
		}
	}
	sort.Strings(bases)
	for _, l := range bases {
		fmt.Fprintln(&b, l)
	}
	for _, img := range p.DependImages {
		fmt.Fprintf(&b, "depends-image %s\n", img)
	}
	for _, e := range p.Context.Entries {
		switch {
		case e.Mode.IsDir():
			fmt.Fprintf(&b, "dir %q %o\n", e.Path, uint32(e.Mode.Perm()))
		case e.Link != "":
			fmt.Fprintf(&b, "symlink %q -> %q\n", e.Path, e.Link)
		default:
			fmt.Fprintf(&b, "file %q %o %d %s\n", e.Path, uint32(e.Mode.Perm()), e.Size, e.Digest)
		}
	}
	return b.Bytes(), nil
}

// Inputs returns the canonical input description the tag hashes.
func (p *Package) Inputs() ([]byte, error) {
	if p.Mirror != nil {
		return mirror.TagInputs(p.Mirror)
	}
	return inputs(p)
}

func computeTag(p *Package) (string, error) {
	in, err := inputs(p)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(in)
	hash := hex.EncodeToString(sum[:])[:40]
	tmpl := p.Config.Tag
	if tmpl == "" {
		return hash, nil
	}
	t, err := template.New("tag").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("%s/build.yml: field \"tag\": %w", p.Dir, err)
	}
	var out strings.Builder
	if err := t.Execute(&out, struct{ Hash string }{hash}); err != nil {
		return "", fmt.Errorf("%s/build.yml: field \"tag\": %w", p.Dir, err)
	}
	if !tagRE.MatchString(out.String()) {
		return "", fmt.Errorf("%s/build.yml: field \"tag\": template gives %q, not a valid tag", p.Dir, out.String())
	}
	return out.String(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sameRef compares image references after normalisation, so that
// "alpine" and "docker.io/library/alpine:latest" are equal.
func sameRef(a, b string) bool {
	ra, errA := name.ParseReference(a, name.WeakValidation)
	rb, errB := name.ParseReference(b, name.WeakValidation)
	if errA != nil || errB != nil {
		return a == b
	}
	return ra.Name() == rb.Name()
}
