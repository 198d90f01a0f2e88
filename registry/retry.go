package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// DefaultBackoff is the retry schedule of RetryOptions: 5 attempts,
// waiting about 0.5, 1, 2 and 4 s.
var DefaultBackoff = remote.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 5}

// RetryStatusCodes are the answers retried with backoff.
var RetryStatusCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests,
	http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

// RetryOptions are go-containerregistry's retry options for o: Backoff
// (or DefaultBackoff), RetryStatusCodes, and Retryable(ctx).
func (o Options) RetryOptions(ctx context.Context) []remote.Option {
	b := o.Backoff
	if b == (remote.Backoff{}) {
		b = DefaultBackoff
	}
	return []remote.Option{
		remote.WithRetryBackoff(b),
		remote.WithRetryStatusCodes(RetryStatusCodes...),
		remote.WithRetryPredicate(Retryable(ctx)),
	}
}

// Retryable is the retry predicate: temporary network errors, timeouts
// (e.g. the transport's response header timeout) and retryable statuses;
// never a refused plain-HTTP request, and never once ctx, the caller's
// context, is done.
func Retryable(ctx context.Context) func(error) bool {
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
		for _, c := range RetryStatusCodes {
			if terr.StatusCode == c {
				return true
			}
		}
		return terr.Temporary()
	}
	if errors.Is(err, ErrPlainHTTP) {
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
