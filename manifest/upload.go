package manifest

// Uploading: the blobs of every local image, Jobs at a time, counted on
// the wire so that Push can say what it sent.

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// distributableBlobs lists the layers and config blobs of the images in
// local and extra, each once, leaving out non-distributable layers.
func distributableBlobs(local []PlatformImage, extra []mutate.IndexAddendum) ([]v1.Layer, error) {
	var blobs []v1.Layer
	seen := map[v1.Hash]bool{}
	add := func(img v1.Image) error {
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
			if !seen[d] && mt.IsDistributable() {
				seen[d] = true
				blobs = append(blobs, l)
			}
		}
		return nil
	}
	for _, pi := range local {
		if err := add(pi.Image); err != nil {
			return nil, err
		}
	}
	for _, x := range extra {
		if img, ok := x.Add.(v1.Image); ok {
			if err := add(img); err != nil {
				return nil, err
			}
		}
	}
	return blobs, nil
}

// uploadBlobs uploads blobs to repo, jobs at a time (the pusher HEAD-checks
// each first and skips what the registry has); the first error cancels
// uctx to stop the others. Not errgroup.WithContext: the pusher keeps the
// context of its first call for the whole push, so uctx must outlive this
// group (the caller cancels it when the push is over).
func uploadBlobs(uctx context.Context, cancel context.CancelFunc, pusher *remote.Pusher, repo name.Repository, blobs []v1.Layer, jobs int) error {
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
	return g.Wait()
}

// countingTransport counts the blob bytes sent (request bodies of blob
// upload PATCH/PUT/POST requests, as read by the inner transport), which
// blobs got committed and which the registry already had. The inner
// transport is the registry guard, which refuses plain HTTP.
type countingTransport struct {
	inner http.RoundTripper

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
