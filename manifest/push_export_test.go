package manifest

import (
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Tests inject many faults: retry quickly.
func init() {
	pushBackoff = remote.Backoff{Duration: 20 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 5}
}
