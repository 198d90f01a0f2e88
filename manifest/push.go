package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/errgroup"

	"github.com/lkpkg/lkpkg/internal/regtransport"
)

// PushOptions configure Push.
type PushOptions struct {
	// Insecure allows plain HTTP (and skips TLS verification) to the
	// registry. It is refused for a host that is not loopback. Without
	// it, plain HTTP is never used, whatever the host.
	Insecure bool
	// Keychain resolves credentials; nil means authn.DefaultKeychain
	// (docker config.json and its credential helpers).
	Keychain authn.Keychain
	// Jobs is the number of blobs uploaded in parallel (default 4).
	Jobs int
	// Progress receives one human line per image pushed, then one for
	// the index and one for the release tag; nil is quiet.
	Progress io.Writer
	// Release is an optional extra tag (e.g. v1.2.0) for the merged index.
	Release string
	// Force allows moving an existing Release tag to other content.
	Force bool
	// Transport is the HTTP transport (nil: remote.DefaultTransport). Push
	// wraps it to count blob bytes and to refuse plain HTTP unless Insecure;
	// retries are done above it. Give it a ResponseHeaderTimeout to turn
	// stalled requests into retries.
	Transport http.RoundTripper
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

const (
	// The buildkit annotations that mark an attestation manifest and name
	// the image it describes.
	annotationRefDigest = "vnd.docker.reference.digest"
	annotationRefType   = "vnd.docker.reference.type"
)

// pushBackoff is the retry schedule for every registry request: 5
// attempts, waiting about 0.5, 1, 2 and 4 s. Tests shorten it.
var pushBackoff = remote.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 5}

// retryStatusCodes are the answers retried with backoff.
var retryStatusCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests,
	http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

// retryable is the retry predicate: temporary network errors, timeouts
// (e.g. the transport's response header timeout) and retryable statuses;
// never once ctx, the caller's context, is done.
func retryable(ctx context.Context) func(error) bool {
	return func(err error) bool {
		return err != nil && ctx.Err() == nil && retryableErr(err)
	}
}

func retryableErr(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		for _, c := range retryStatusCodes {
			if terr.StatusCode == c {
				return true
			}
		}
		return terr.Temporary()
	}
	if errors.Is(err, errPlainHTTP) {
		return false
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return true
	}
	if t, ok := err.(interface{ Temporary() bool }); ok && t.Temporary() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, net.ErrClosed)
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
	start := time.Now()
	res := PushResult{Ref: tag.String()}
	if idx == nil {
		return res, errors.New("push: no index")
	}

	host := tag.RegistryStr()
	if opts.Insecure {
		if !isLoopback(host) {
			return res, fmt.Errorf("push %s: refusing insecure (plain HTTP, unverified TLS) connection to %s: only loopback registries (localhost, 127.0.0.0/8, ::1) may be insecure", tag, host)
		}
		t, err := name.NewTag(tag.String(), name.Insecure)
		if err != nil {
			return res, err
		}
		tag = t
	}
	repo := tag.Context()
	var release name.Tag
	if opts.Release == tag.TagStr() {
		return res, fmt.Errorf("push %s: the release tag is the tag itself", tag)
	}
	if opts.Release != "" {
		var err error
		if release, err = tagIn(repo, opts.Release); err != nil {
			return res, fmt.Errorf("push: release tag: %w", err)
		}
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = 4
	}
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	// Unverified TLS and plain HTTP only ever reach loopback hosts, even
	// when a token realm or a blob redirect points elsewhere.
	base := regtransport.New(opts.Transport, opts.Insecure)
	ct := &countingTransport{inner: base, allowHTTP: opts.Insecure, sessions: map[string]int64{},
		uploaded: map[v1.Hash]int64{}, existing: map[v1.Hash]bool{}}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(ct),
		remote.WithJobs(jobs),
		remote.WithRetryBackoff(pushBackoff),
		remote.WithRetryStatusCodes(retryStatusCodes...),
		remote.WithRetryPredicate(retryable(ctx)),
		remote.WithUserAgent("lkpkg"),
	}
	fail := func(err error) (PushResult, error) {
		res.UploadedBytes, res.UploadedBlobs, res.ExistingBlobs = ct.totals()
		res.Duration = time.Since(start)
		if errors.Is(err, errPlainHTTP) || strings.Contains(err.Error(), errPlainHTTP.Error()) {
			return res, fmt.Errorf("push %s: %w (the registry may only speak plain HTTP; that needs Insecure and a loopback host)", tag, err)
		}
		return res, fmt.Errorf("push %s: %w", tag, err)
	}

	// The local content: per-platform images, with their per-arch tags,
	// and the attestations that describe them.
	local, err := Images(idx)
	if err != nil {
		return fail(err)
	}
	if len(local) == 0 {
		return fail(errors.New("the index holds no per-platform image"))
	}
	archTags := make([]name.Tag, len(local))
	seen := map[string]string{}
	for i, pi := range local {
		s := archSuffix(pi.Platform)
		if other, dup := seen[s]; dup {
			return fail(fmt.Errorf("platforms %s and %s would share the tag suffix -%s", other, pi.Platform, s))
		}
		seen[s] = pi.Platform.String()
		if archTags[i], err = tagIn(repo, tag.TagStr()+"-"+s); err != nil {
			return fail(err)
		}
	}
	localExtra, err := extras(idx)
	if err != nil {
		return fail(err)
	}

	pusher, err := remote.NewPusher(ropts...)
	if err != nil {
		return fail(err)
	}

	// Merge with what the tag holds now, and check the release tag,
	// before writing anything.
	remoteDigest, merged, mergedDigest, err := mergeRemote(ctx, tag, local, localExtra, ropts)
	if err != nil {
		return fail(err)
	}
	if opts.Release != "" {
		if err := checkRelease(ctx, release, mergedDigest, opts.Force, ropts); err != nil {
			return fail(err)
		}
	}

	// 1. Blobs of every local image and attestation, Jobs at a time
	// (the pusher dedupes shared blobs and HEAD-checks each first).
	var blobs []v1.Layer
	blobSeen := map[v1.Hash]bool{}
	addBlobs := func(img v1.Image) error {
		ls, err := img.Layers()
		if err != nil {
			return err
		}
		cl, err := partial.ConfigLayer(img)
		if err != nil {
			return err
		}
		for _, l := range append(ls, cl) {
			d, err := l.Digest()
			if err != nil {
				return err
			}
			mt, err := l.MediaType()
			if err != nil {
				return err
			}
			if !blobSeen[d] && mt.IsDistributable() {
				blobSeen[d] = true
				blobs = append(blobs, l)
			}
		}
		return nil
	}
	for _, pi := range local {
		if err := addBlobs(pi.Image); err != nil {
			return fail(err)
		}
	}
	for _, x := range localExtra {
		if img, ok := x.Add.(v1.Image); ok {
			if err := addBlobs(img); err != nil {
				return fail(err)
			}
		}
	}
	// Not errgroup.WithContext: the pusher keeps the context of its first
	// call for the whole push, so it must outlive this group.
	uctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	g.SetLimit(jobs)
	for _, l := range blobs {
		g.Go(func() error {
			err := pusher.Upload(uctx, repo, l)
			if err != nil {
				cancel()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fail(err)
	}

	// Manifests of the images, each with its per-arch tag.
	claimed := map[v1.Hash]bool{}
	for i, pi := range local {
		if err := pusher.Push(ctx, archTags[i], pi.Image); err != nil {
			return fail(fmt.Errorf("%s: %w", pi.Platform, err))
		}
		if opts.Progress != nil {
			d, _ := pi.Image.Digest()
			n, nb, ne := ct.imageStats(pi.Image, claimed)
			fmt.Fprintf(opts.Progress, "pushed %s %s@%s: %s in %d blob(s) uploaded, %d already there\n",
				pi.Platform, archTags[i], d, humanBytes(n), nb, ne)
		}
	}
	for _, x := range localExtra {
		if err := pusher.Push(ctx, repo.Digest(x.Descriptor.Digest.String()), x.Add.(remote.Taggable)); err != nil {
			return fail(fmt.Errorf("attestation %s: %w", x.Descriptor.Digest, err))
		}
	}

	// 2+3. The merged index, last. If somebody else moved the tag since
	// we looked, merge again with what is there now.
	for attempt := 0; ; attempt++ {
		now, err := headDigest(ctx, tag, ropts)
		if err != nil {
			return fail(err)
		}
		if now == remoteDigest {
			break
		}
		if attempt == 3 {
			return fail(fmt.Errorf("the tag keeps moving under us (now %s)", now))
		}
		if remoteDigest, merged, mergedDigest, err = mergeRemote(ctx, tag, local, localExtra, ropts); err != nil {
			return fail(err)
		}
		if opts.Release != "" {
			if err := checkRelease(ctx, release, mergedDigest, opts.Force, ropts); err != nil {
				return fail(err)
			}
		}
	}
	if err := pusher.Push(ctx, tag, merged); err != nil {
		return fail(fmt.Errorf("index: %w", err))
	}
	res.Digest = mergedDigest
	if res.Platforms, err = Platforms(merged); err != nil {
		return fail(err)
	}
	if opts.Progress != nil {
		what := "new"
		switch {
		case remoteDigest == mergedDigest:
			what = "unchanged"
		case remoteDigest != (v1.Hash{}):
			what = "merged with " + remoteDigest.String()
		}
		fmt.Fprintf(opts.Progress, "pushed index %s@%s (%s): %s\n", tag, mergedDigest, what, strings.Join(res.Platforms, ", "))
	}

	if opts.Release != "" {
		if err := checkRelease(ctx, release, mergedDigest, opts.Force, ropts); err != nil {
			return fail(err)
		}
		if err := pusher.Push(ctx, release, merged); err != nil {
			return fail(fmt.Errorf("release tag %s: %w", release.TagStr(), err))
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "tagged %s@%s\n", release, mergedDigest)
		}
	}

	res.UploadedBytes, res.UploadedBlobs, res.ExistingBlobs = ct.totals()
	res.Duration = time.Since(start)
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "%s: %s in %d blob(s) uploaded, %d already there, %s\n",
			tag, humanBytes(res.UploadedBytes), res.UploadedBlobs, res.ExistingBlobs, res.Duration.Round(time.Millisecond))
	}
	return res, nil
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

func isLoopback(host string) bool { return regtransport.IsLoopback(host) }

// isAttestation says whether d is a buildkit attestation manifest.
func isAttestation(d v1.Descriptor) bool {
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown" &&
		d.Annotations[annotationRefDigest] != ""
}

// extras lists idx's children that are not per-platform images (the ones
// Images skips): attestations and anything else, with their descriptors.
func extras(idx v1.ImageIndex) ([]mutate.IndexAddendum, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []mutate.IndexAddendum
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.OS != "unknown" && d.MediaType.IsImage() {
			continue
		}
		var add partial.Describable
		switch {
		case d.MediaType.IsImage():
			add, err = idx.Image(d.Digest)
		case d.MediaType.IsIndex():
			add, err = idx.ImageIndex(d.Digest)
		default:
			return nil, fmt.Errorf("child %s has unsupported media type %q", d.Digest, d.MediaType)
		}
		if err != nil {
			return nil, fmt.Errorf("child %s: %w", d.Digest, err)
		}
		out = append(out, mutate.IndexAddendum{Add: add, Descriptor: d})
	}
	return out, nil
}

// withCtx is ropts with ctx, without touching ropts' backing array.
func withCtx(ctx context.Context, ropts []remote.Option) []remote.Option {
	return append(ropts[:len(ropts):len(ropts)], remote.WithContext(ctx))
}

// isNotFound says whether err is a registry 404 (unknown tag or repository).
func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// headDigest is the digest tag points at, or the zero hash if none.
func headDigest(ctx context.Context, tag name.Tag, ropts []remote.Option) (v1.Hash, error) {
	d, err := remote.Head(tag, withCtx(ctx, ropts)...)
	if isNotFound(err) {
		return v1.Hash{}, nil
	}
	if err != nil {
		return v1.Hash{}, fmt.Errorf("checking %s: %w", tag, err)
	}
	return d.Digest, nil
}

// mergeRemote reads what tag holds and merges local into it (the local
// image wins per platform). It returns the remote digest (zero if the tag
// does not exist), the merged index and its digest.
func mergeRemote(ctx context.Context, tag name.Tag, local []PlatformImage, localExtra []mutate.IndexAddendum, ropts []remote.Option) (v1.Hash, v1.ImageIndex, v1.Hash, error) {
	var zero v1.Hash
	var baseIdx v1.ImageIndex
	var baseExtra []mutate.IndexAddendum
	var remoteDigest v1.Hash
	desc, err := remote.Get(tag, withCtx(ctx, ropts)...)
	switch {
	case isNotFound(err):
	case err != nil:
		return zero, nil, zero, fmt.Errorf("reading %s: %w", tag, err)
	case desc.MediaType.IsIndex():
		remoteDigest = desc.Digest
		if baseIdx, err = desc.ImageIndex(); err != nil {
			return zero, nil, zero, err
		}
		if baseExtra, err = extras(baseIdx); err != nil {
			return zero, nil, zero, fmt.Errorf("remote %s: %w", tag, err)
		}
	case desc.MediaType.IsImage():
		// A single image at the tag: keep it as its config's platform.
		remoteDigest = desc.Digest
		img, err := desc.Image()
		if err != nil {
			return zero, nil, zero, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return zero, nil, zero, fmt.Errorf("remote %s: %w", tag, err)
		}
		if cf.OS != "" && cf.Architecture != "" {
			if baseIdx, err = Index([]PlatformImage{{Platform: platformOf(cf), Image: img}}); err != nil {
				return zero, nil, zero, err
			}
		}
	default:
		return zero, nil, zero, fmt.Errorf("%s is a %s, not an image or index", tag, desc.MediaType)
	}
	merged, err := mergeWithExtras(baseIdx, baseExtra, local, localExtra)
	if err != nil {
		return zero, nil, zero, err
	}
	d, err := merged.Digest()
	if err != nil {
		return zero, nil, zero, err
	}
	return remoteDigest, merged, d, nil
}

func platformOf(cf *v1.ConfigFile) v1.Platform {
	if cf.Platform() != nil {
		return *cf.Platform()
	}
	return v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
}

// mergeWithExtras merges local into base with Merge, then adds the
// non-platform children of both: attestations whose subject is still in
// the merged index (the others are dropped), and any other child kept
// as is. Local children win over remote ones with the same digest. The
// order is deterministic: images by platform, then attestations by their
// subject's platform and digest, then the rest by digest.
func mergeWithExtras(base v1.ImageIndex, baseExtra []mutate.IndexAddendum, local []PlatformImage, localExtra []mutate.IndexAddendum) (v1.ImageIndex, error) {
	merged, err := Merge(base, local)
	if err != nil {
		return nil, err
	}
	im, err := merged.IndexManifest()
	if err != nil {
		return nil, err
	}
	subjects := map[string]string{} // image digest -> platform
	for _, d := range im.Manifests {
		subjects[d.Digest.String()] = d.Platform.String()
	}
	type extra struct {
		add mutate.IndexAddendum
		key string
	}
	var keep []extra
	have := map[v1.Hash]bool{}
	for _, x := range append(append([]mutate.IndexAddendum(nil), localExtra...), baseExtra...) {
		d := x.Descriptor
		if have[d.Digest] {
			continue
		}
		key := "2 " + d.Digest.String()
		if isAttestation(d) {
			p, ok := subjects[d.Annotations[annotationRefDigest]]
			if !ok {
				continue // its image is gone
			}
			key = "1 " + p + " " + d.Digest.String()
		}
		have[d.Digest] = true
		keep = append(keep, extra{x, key})
	}
	if len(keep) == 0 {
		return merged, nil
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].key < keep[j].key })
	adds := make([]mutate.IndexAddendum, len(keep))
	for i, x := range keep {
		adds[i] = x.add
	}
	return mutate.AppendManifests(merged, adds...), nil
}

// checkRelease refuses to move an existing release tag to other content
// unless force.
func checkRelease(ctx context.Context, release name.Tag, want v1.Hash, force bool, ropts []remote.Option) error {
	old, err := headDigest(ctx, release, ropts)
	if err != nil {
		return err
	}
	if old == (v1.Hash{}) || old == want || force {
		return nil
	}
	return fmt.Errorf("release tag %s already points at %s; refusing to move it to %s (use force to move it)", release, old, want)
}

// errPlainHTTP is returned for a plain HTTP request without Insecure, or
// to a host that is not loopback (e.g. a token server).
var errPlainHTTP = errors.New("plain HTTP refused")

// countingTransport counts the blob bytes sent (request bodies of blob
// upload PATCH/PUT/POST requests, as read by the inner transport), which
// blobs got committed and which the registry already had. It also refuses
// plain HTTP unless allowed.
type countingTransport struct {
	inner     http.RoundTripper
	allowHTTP bool

	mu       sync.Mutex
	total    int64
	sessions map[string]int64 // upload session path -> bytes sent
	uploaded map[v1.Hash]int64
	existing map[v1.Hash]bool
}

type countingBody struct {
	io.ReadCloser
	add func(int64)
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.add(int64(n))
	}
	return n, err
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && (!c.allowHTTP || !isLoopback(req.URL.Host)) {
		return nil, fmt.Errorf("%w to %s", errPlainHTTP, req.URL.Host)
	}
	path := req.URL.Path
	upload := strings.Contains(path, "/blobs/uploads/")
	if upload && req.Body != nil && req.Body != http.NoBody {
		r := *req
		add := func(n int64) {
			c.mu.Lock()
			c.total += n
			c.sessions[path] += n
			c.mu.Unlock()
		}
		r.Body = &countingBody{ReadCloser: req.Body, add: add}
		if req.GetBody != nil {
			r.GetBody = func() (io.ReadCloser, error) {
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				return &countingBody{ReadCloser: b, add: add}, nil
			}
		}
		req = &r
	}
	resp, err := c.inner.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	switch {
	case upload && req.Method == http.MethodPut && resp.StatusCode == http.StatusCreated:
		if h, err := v1.NewHash(req.URL.Query().Get("digest")); err == nil {
			c.mu.Lock()
			c.uploaded[h] += c.sessions[path]
			delete(c.sessions, path)
			c.mu.Unlock()
		}
	case upload && req.Method == http.MethodPost && resp.StatusCode == http.StatusCreated:
		// A cross-repository mount: the registry had it.
		if h, err := v1.NewHash(req.URL.Query().Get("mount")); err == nil {
			c.mu.Lock()
			c.existing[h] = true
			c.mu.Unlock()
		}
	case req.Method == http.MethodHead && resp.StatusCode == http.StatusOK && strings.Contains(path, "/blobs/sha256:"):
		if h, err := v1.NewHash(path[strings.LastIndex(path, "/")+1:]); err == nil {
			c.mu.Lock()
			c.existing[h] = true
			c.mu.Unlock()
		}
	}
	return resp, nil
}

// totals: bytes sent, blobs committed, blobs already there (and not
// committed by this push).
func (c *countingTransport) totals() (int64, int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ex := 0
	for h := range c.existing {
		if _, up := c.uploaded[h]; !up {
			ex++
		}
	}
	return c.total, len(c.uploaded), ex
}

// imageStats attributes uploaded blobs to img (each blob to the first
// image that claims it): bytes, blobs uploaded, blobs already there.
func (c *countingTransport) imageStats(img v1.Image, claimed map[v1.Hash]bool) (int64, int, int) {
	var ds []v1.Hash
	if ls, err := img.Layers(); err == nil {
		for _, l := range ls {
			if d, err := l.Digest(); err == nil {
				ds = append(ds, d)
			}
		}
	}
	if d, err := img.ConfigName(); err == nil {
		ds = append(ds, d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	var nb, ne int
	for _, d := range ds {
		if b, up := c.uploaded[d]; up {
			if !claimed[d] {
				claimed[d] = true
				n += b
				nb++
			}
		} else if c.existing[d] {
			ne++
		}
	}
	return n, nb, ne
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
