package pkgbuild

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// dependImages reads depends.docker-images (`list` or `from-file`). Every
// image must be pinned by digest, as LinuxKit requires, so the tag can
// hash it without looking anything up.
func dependImages(p *Package, cache Resolver) ([]string, error) {
	d := p.Config.Depends.DockerImages
	file := filepath.Join(p.Dir, "build.yml")
	list := d.List
	if d.FromFile != "" {
		file = filepath.Join(p.Dir, d.FromFile)
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: depends.docker-images.from-file: %w", filepath.Join(p.Dir, "build.yml"), err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
				continue
			}
			list = append(list, strings.TrimSpace(line))
		}
	}
	for _, img := range list {
		d, err := name.NewDigest(img, name.WeakValidation)
		if err != nil {
			return nil, fmt.Errorf("%s: depends.docker-images: %q must be pinned by digest (name@sha256:...): %v", file, img, err)
		}
		if h, err := v1.NewHash(d.DigestStr()); err != nil || cache == nil || !cache.HasBlob(h) {
			return nil, fmt.Errorf("%s: depends.docker-images: %s is not in the local cache, and lkpkg never pulls: `lkpkg cache import` it first", file, img)
		}
	}
	return list, nil
}

// withDependImages returns the build context plus the depends images for
// platform, saved as docker-archive tars (from the local cache only) into
// tmpDir, at `target` or under `target-dir` as LinuxKit places them.
func (b *Scheduler) withDependImages(ctx context.Context, p *Package, platform, tmpDir string) (*BuildContext, error) {
	plat, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	d := p.Config.Depends.DockerImages
	images := map[string]map[name.Reference]v1.Image{} // context path -> images
	for _, ref := range p.DependImages {
		dg, err := name.NewDigest(ref, name.WeakValidation)
		if err != nil {
			return nil, err
		}
		h, err := v1.NewHash(dg.DigestStr())
		if err != nil {
			return nil, err
		}
		img, err := b.Cache.ImageByDigest(h, *plat)
		if err != nil {
			return nil, fmt.Errorf("%s: depends image %s for %s is not in the local cache (lkpkg never pulls; `lkpkg cache import` it): %w", p.Dir, ref, platform, err)
		}
		target := d.Target
		if target == "" {
			target = path.Join(filepath.ToSlash(d.TargetDir), sanitize(dg.Context().Name())+"@"+dg.DigestStr()+".tar")
		}
		if images[target] == nil {
			images[target] = map[name.Reference]v1.Image{}
		}
		images[target][dg] = img
	}
	files := map[string]string{}
	for target, refs := range images {
		out := filepath.Join(tmpDir, fmt.Sprintf("%d.tar", len(files)))
		if err := tarball.MultiRefWriteToFile(out, refs); err != nil {
			return nil, fmt.Errorf("%s: saving depends images to %s: %w", p.Dir, target, err)
		}
		files[path.Clean(filepath.ToSlash(target))] = out
	}
	removeDir := ""
	if d.TargetDir != "" {
		removeDir = path.Clean(filepath.ToSlash(d.TargetDir))
	}
	return p.Context.withFiles(files, removeDir)
}

func sanitize(s string) string { return strings.NewReplacer("/", "_", ":", "_").Replace(s) }

// withFiles returns a copy of bc with files (context path -> host path)
// added, replacing whatever was at those paths or below removeDir.
func (bc *BuildContext) withFiles(files map[string]string, removeDir string) (*BuildContext, error) {
	entries := map[string]ContextEntry{}
	for _, e := range bc.Entries {
		if removeDir != "" && strings.HasPrefix(e.Path, removeDir+"/") {
			continue
		}
		entries[e.Path] = e
	}
	for ctxPath, src := range files {
		fi, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		addParentDirs(entries, ctxPath)
		entries[ctxPath] = ContextEntry{Path: ctxPath, Mode: 0o644, Size: fi.Size(), source: src}
	}
	return newBuildContext(entries), nil
}
