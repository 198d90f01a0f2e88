package download

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// defaultClient bounds a whole request, generously: toolchain zips are
// ~70 MiB and base root filesystems more.
var defaultClient = &http.Client{Timeout: 10 * time.Minute}

// Get GETs loc, from byte offset when offset > 0 (a Range request). A
// transport error, a 5xx or a 429 is tried again with backoff, four
// attempts in all; any other response is returned for the caller to judge
// and close. A nil client means one with a 10-minute timeout.
func Get(ctx context.Context, client *http.Client, loc string, offset int64) (*http.Response, error) {
	if client == nil {
		client = defaultClient
	}
	var lastErr error
	for attempt := range 4 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 250 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
		if err != nil {
			return nil, err
		}
		if offset > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		}
		resp, err := client.Do(req)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			lastErr = err
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			resp.Body.Close()
			lastErr = fmt.Errorf("%s: %s", loc, resp.Status)
		default:
			return resp, nil
		}
	}
	return nil, fmt.Errorf("%s: giving up after retries: %w", loc, lastErr)
}
