package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/lkpkg/lkpkg/internal/units"
	"github.com/lkpkg/lkpkg/registry"
)

// PushOptions configure Push.
type PushOptions struct {
	// Registry says how to reach the registry: Insecure (plain HTTP and
	// unverified TLS, refused for a host that is not loopback; without it
	// plain HTTP is never used, whatever the host), the keychain, the
	// retry schedule and the HTTP transport. Push wraps the transport to
	// count blob bytes; retries are done above it. Give it a
	// ResponseHeaderTimeout to turn stalled requests into retries.
	Registry registry.Options
	// Jobs is the number of blobs uploaded in parallel (default 4).
	Jobs int
	// Progress receives one human line per image pushed, then one for
	// the index and one for the release tag; nil is quiet.
	Progress io.Writer
	// Release is an optional extra tag (e.g. v1.2.0) for the merged index.
	Release string
	// Force allows moving an existing Release tag to other content.
	Force bool
}

// PushResult says what Push did.
type PushResult struct {
	Ref           string   // repo:tag pushed
	Digest        v1.Hash  // digest of the merged index now at the tag
	Platforms     []string // platforms in the merged remote index
	UploadedBytes int64    // blob bytes sent, retried attempts included (0 for an unchanged re-push)
	UploadedBlobs int      // blobs committed by this push
	ExistingBlobs int      // blobs the registry already had (skipped)
	Duration      time.Duration
}

// Push uploads idx (an index of per-platform images, as lkpkg's cache
// stores them) to tag:
//
//  1. every image is pushed and also tagged "<tag>-<arch><variant>"
//     (LinuxKit's per-arch tags, e.g. -amd64, -arm64v8); only blobs the
//     registry lacks are uploaded, Jobs at a time, with retries and
//     backoff on 5xx, 429 and timeouts;
//  2. if tag already holds an index, the two are merged: the local image
//     wins per platform, platforms only the remote has are kept, and
//     attestation manifests whose subject left the index are dropped;
//  3. the merged index is pushed last, so the tag never points at an
//     incomplete image, then the Release tag.
//
// The merge and the Release check are done before anything is written, so
// a refused Release leaves the registry untouched.
func Push(ctx context.Context, idx v1.ImageIndex, tag name.Tag, opts PushOptions) (PushResult, error) {
	p, err := newPushRun(ctx, idx, tag, opts)
	if err != nil {
		return PushResult{Ref: tag.String()}, err
	}
	err = p.run(ctx, idx)
	p.res.UploadedBytes, p.res.UploadedBlobs, p.res.ExistingBlobs = p.ct.totals()
	p.res.Duration = time.Since(p.start)
	if err != nil {
		if errors.Is(err, registry.ErrPlainHTTP) || strings.Contains(err.Error(), registry.ErrPlainHTTP.Error()) {
			return p.res, fmt.Errorf("push %s: %w (the registry may only speak plain HTTP; that needs Insecure and a loopback host)", p.tag, err)
		}
		return p.res, fmt.Errorf("push %s: %w", p.tag, err)
	}
	p.progress("%s: %s in %d blob(s) uploaded, %d already there, %s\n",
		p.tag, units.Human(p.res.UploadedBytes), p.res.UploadedBlobs, p.res.ExistingBlobs, p.res.Duration.Round(time.Millisecond))
	return p.res, nil
}

// pushRun is one Push: its tags, its counted transport and what it did.
type pushRun struct {
	opts         PushOptions
	start        time.Time
	tag, release name.Tag
	repo         name.Repository
	jobs         int
	ct           *countingTransport
	ropts        []remote.Option
	res          PushResult

	local      []PlatformImage        // the per-platform images to push
	archTags   []name.Tag             // their per-arch tags
	localExtra []mutate.IndexAddendum // attestations and other children
}

// newPushRun checks the options (insecure only for loopback, the release
// tag) and sets up the counted, guarded transport.
func newPushRun(ctx context.Context, idx v1.ImageIndex, tag name.Tag, opts PushOptions) (*pushRun, error) {
	if idx == nil {
		return nil, errors.New("push: no index")
	}
	if err := opts.Registry.Check(tag.RegistryStr()); err != nil {
		return nil, fmt.Errorf("push %s: refusing insecure (plain HTTP, unverified TLS) connection: %w", tag, err)
	}
	var err error
	if opts.Registry.Insecure {
		if tag, err = name.NewTag(tag.String(), opts.Registry.NameOptions()...); err != nil {
			return nil, err
		}
	}
	p := &pushRun{opts: opts, start: time.Now(), tag: tag, repo: tag.Context(), jobs: opts.Jobs, res: PushResult{Ref: tag.String()}}
	if opts.Release == tag.TagStr() {
		return nil, fmt.Errorf("push %s: the release tag is the tag itself", tag)
	}
	if opts.Release != "" {
		if p.release, err = tagIn(p.repo, opts.Release); err != nil {
			return nil, fmt.Errorf("push: release tag: %w", err)
		}
	}
	if p.jobs <= 0 {
		p.jobs = 4
	}
	p.ct = &countingTransport{inner: opts.Registry.RoundTripper(), sessions: map[string]int64{},
		uploaded: map[v1.Hash]int64{}, existing: map[v1.Hash]bool{}}
	p.ropts = append(opts.Registry.RemoteOptionsVia(ctx, p.ct), opts.Registry.RetryOptions(ctx)...)
	p.ropts = append(p.ropts, remote.WithJobs(p.jobs), remote.WithUserAgent("lkpkg"))
	return p, nil
}

func (p *pushRun) progress(format string, args ...any) {
	if p.opts.Progress != nil {
		fmt.Fprintf(p.opts.Progress, format, args...)
	}
}

func (p *pushRun) run(ctx context.Context, idx v1.ImageIndex) error {
	if err := p.readLocal(idx); err != nil {
		return err
	}
	pusher, err := remote.NewPusher(p.ropts...)
	if err != nil {
		return err
	}
	// Merge with what the tag holds now, and check the release tag,
	// before writing anything.
	m, err := p.merge(ctx)
	if err != nil {
		return err
	}
	// 1. Blobs of every local image and attestation, then their manifests.
	blobs, err := distributableBlobs(p.local, p.localExtra)
	if err != nil {
		return err
	}
	uctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := uploadBlobs(uctx, cancel, pusher, p.repo, blobs, p.jobs); err != nil {
		return err
	}
	if err := p.pushManifests(ctx, pusher); err != nil {
		return err
	}
	// 2+3. The merged index, last; then the release tag.
	if m, err = p.settle(ctx, m); err != nil {
		return err
	}
	if err := pusher.Push(ctx, p.tag, m.index); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	p.res.Digest = m.digest
	if p.res.Platforms, err = Platforms(m.index); err != nil {
		return err
	}
	what := "new"
	switch {
	case m.remote == m.digest:
		what = "unchanged"
	case m.remote != (v1.Hash{}):
		what = "merged with " + m.remote.String()
	}
	p.progress("pushed index %s@%s (%s): %s\n", p.tag, m.digest, what, strings.Join(p.res.Platforms, ", "))
	return p.pushRelease(ctx, pusher, m)
}

// readLocal lists the local content: per-platform images, with their
// per-arch tags, and the attestations that describe them.
func (p *pushRun) readLocal(idx v1.ImageIndex) error {
	local, err := Images(idx)
	if err != nil {
		return err
	}
	if len(local) == 0 {
		return errors.New("the index holds no per-platform image")
	}
	p.local, p.archTags = local, make([]name.Tag, len(local))
	seen := map[string]string{}
	for i, pi := range local {
		s := archSuffix(pi.Platform)
		if other, dup := seen[s]; dup {
			return fmt.Errorf("platforms %s and %s would share the tag suffix -%s", other, pi.Platform, s)
		}
		seen[s] = pi.Platform.String()
		if p.archTags[i], err = tagIn(p.repo, p.tag.TagStr()+"-"+s); err != nil {
			return err
		}
	}
	p.localExtra, err = extras(idx)
	return err
}

// merge merges the local content into what the tag holds now and checks
// that the release tag may point at the result.
func (p *pushRun) merge(ctx context.Context) (merged, error) {
	m, err := mergeRemote(ctx, p.tag, p.local, p.localExtra, p.ropts)
	if err != nil {
		return m, err
	}
	if p.opts.Release != "" {
		err = checkRelease(ctx, p.release, m.digest, p.opts.Force, p.ropts)
	}
	return m, err
}

// settle makes sure m was merged with what the tag holds now: if somebody
// else moved the tag since we looked, it merges again.
func (p *pushRun) settle(ctx context.Context, m merged) (merged, error) {
	for attempt := 0; ; attempt++ {
		now, err := headDigest(ctx, p.tag, p.ropts)
		if err != nil {
			return m, err
		}
		if now == m.remote {
			return m, nil
		}
		if attempt == 3 {
			return m, fmt.Errorf("the tag keeps moving under us (now %s)", now)
		}
		if m, err = p.merge(ctx); err != nil {
			return m, err
		}
	}
}

// pushManifests pushes the manifests of the local images, each with its
// per-arch tag, then those of the attestations, by digest.
func (p *pushRun) pushManifests(ctx context.Context, pusher *remote.Pusher) error {
	claimed := map[v1.Hash]bool{}
	for i, pi := range p.local {
		if err := pusher.Push(ctx, p.archTags[i], pi.Image); err != nil {
			return fmt.Errorf("%s: %w", pi.Platform, err)
		}
		if p.opts.Progress != nil {
			d, _ := pi.Image.Digest()
			n, nb, ne := p.ct.imageStats(pi.Image, claimed)
			p.progress("pushed %s %s@%s: %s in %d blob(s) uploaded, %d already there\n",
				pi.Platform, p.archTags[i], d, units.Human(n), nb, ne)
		}
	}
	for _, x := range p.localExtra {
		if err := pusher.Push(ctx, p.repo.Digest(x.Descriptor.Digest.String()), x.Add.(remote.Taggable)); err != nil {
			return fmt.Errorf("attestation %s: %w", x.Descriptor.Digest, err)
		}
	}
	return nil
}

// pushRelease points the release tag (if any) at the merged index, after
// checking again that it may move there.
func (p *pushRun) pushRelease(ctx context.Context, pusher *remote.Pusher, m merged) error {
	if p.opts.Release == "" {
		return nil
	}
	if err := checkRelease(ctx, p.release, m.digest, p.opts.Force, p.ropts); err != nil {
		return err
	}
	if err := pusher.Push(ctx, p.release, m.index); err != nil {
		return fmt.Errorf("release tag %s: %w", p.release.TagStr(), err)
	}
	p.progress("tagged %s@%s\n", p.release, m.digest)
	return nil
}

// tagIn makes repo:t, keeping repo's registry options (insecure).
func tagIn(repo name.Repository, t string) (name.Tag, error) {
	if _, err := name.NewTag("example.com/x:"+t, name.StrictValidation); err != nil {
		return name.Tag{}, fmt.Errorf("invalid tag %q: %w", t, err)
	}
	return repo.Tag(t), nil
}

// archSuffix is LinuxKit's per-arch tag suffix: arch plus variant
// (amd64, arm64v8), with the OS in front when it is not linux.
func archSuffix(p v1.Platform) string {
	s := p.Architecture + p.Variant
	if p.OS != "" && p.OS != "linux" {
		s = p.OS + "-" + s
	}
	return s
}
