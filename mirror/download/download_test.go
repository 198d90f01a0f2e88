package download

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lkpkg/lkpkg/internal/flock"
)

// upstream serves content from memory, counting requests and bytes, and
// can hold a transfer until the test lets it go.
type upstream struct {
	content  []byte
	noRange  bool
	block    chan struct{} // non-nil: each body blocks until closed or ctx ends
	requests atomic.Int64
	sent     atomic.Int64
}

func (u *upstream) open(ctx context.Context, offset int64) (io.ReadCloser, error) {
	u.requests.Add(1)
	if offset > 0 && u.noRange {
		return nil, ErrNoRange
	}
	if u.block != nil {
		select {
		case <-u.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	rest := u.content[offset:]
	u.sent.Add(int64(len(rest)))
	return io.NopCloser(bytes.NewReader(rest)), nil
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func request(dir string, u *upstream, content []byte) Request {
	return Request{
		Path:   filepath.Join(dir, hexSHA(content)),
		Size:   int64(len(content)),
		SHA256: hexSHA(content),
		Open:   u.open,
	}
}

// content is what the fake upstream serves in TestFetch.
var content = bytes.Repeat([]byte("lkpkg download cache "), 1000)

// fetchCases are the cache situations TestFetch covers.
var fetchCases = []struct {
	name      string
	serve     []byte // what the upstream has; nil = content
	prepare   func(t *testing.T, r Request)
	edit      func(r *Request)
	noRange   bool
	wantErr   []string
	wantSent  int64
	wantCache bool
	wantLog   string
}{
	{name: "miss", wantSent: int64(len(content))},
	{
		name:      "hit",
		prepare:   func(t *testing.T, r Request) { write(t, r.Path, content) },
		wantCache: true,
	},
	{
		name: "corrupt hit is fetched again",
		prepare: func(t *testing.T, r Request) {
			bad := bytes.Clone(content)
			bad[len(bad)/2] ^= 1
			write(t, r.Path, bad)
		},
		wantSent: int64(len(content)),
		wantLog:  "is corrupt",
	},
	{
		name: "hit failing Verify is fetched again",
		prepare: func(t *testing.T, r Request) {
			write(t, r.Path, bytes.ToUpper(content))
		},
		edit: func(r *Request) {
			// Only Verify pins the content, as the APK signature does.
			r.SHA256 = ""
			r.Verify = func(p string) error {
				if got, _ := os.ReadFile(p); !bytes.Equal(got, content) {
					return errors.New("bad signature")
				}
				return nil
			}
		},
		wantSent: int64(len(content)),
		wantLog:  "bad signature",
	},
	{
		name:    "upstream too short",
		serve:   content[:len(content)-1],
		wantErr: []string{"size: expected", "got " + strconv.Itoa(len(content)-1)},
	},
	{
		name:    "upstream too long",
		serve:   append(bytes.Clone(content), 'x'),
		wantErr: []string{"size: expected", "got " + strconv.Itoa(len(content)+1)},
	},
	{
		// The size said is the upstream's, not the one byte too many kept.
		name:    "upstream another, larger file",
		serve:   append(bytes.Clone(content), content[:4699]...),
		wantErr: []string{"size: expected " + strconv.Itoa(len(content)) + " bytes, got " + strconv.Itoa(len(content)+4699)},
	},
	{
		name:    "upstream endless",
		serve:   make([]byte, maxOverrunMeasured+len(content)+2),
		wantErr: []string{"got " + strconv.Itoa(maxOverrunMeasured+len(content)+1) + " or more"},
	},
	{
		name:     "oversized cached file is fetched again",
		prepare:  func(t *testing.T, r Request) { write(t, r.Path, append(bytes.Clone(content), content...)) },
		wantSent: int64(len(content)),
		wantLog:  "got " + strconv.Itoa(2*len(content)),
	},
	{
		name:    "upstream other bytes",
		serve:   bytes.ToUpper(content),
		wantErr: []string{"sha256: expected " + hexSHA(content), "got " + hexSHA(bytes.ToUpper(content))},
	},
	{
		name:     "resume sends only the missing bytes",
		prepare:  func(t *testing.T, r Request) { write(t, r.Path+".part", content[:1000]) },
		wantSent: int64(len(content) - 1000),
	},
	{
		name:     "resume without range support starts over",
		prepare:  func(t *testing.T, r Request) { write(t, r.Path+".part", content[:1000]) },
		noRange:  true,
		wantSent: int64(len(content)),
	},
	{
		name: "corrupt part is fetched again from zero",
		prepare: func(t *testing.T, r Request) {
			write(t, r.Path+".part", bytes.ToUpper(content[:1000]))
		},
		wantSent: int64(len(content) - 1000 + len(content)),
		wantLog:  "failed verification",
	},
	{
		name:     "unknown size bounded by MaxSize",
		edit:     func(r *Request) { r.Size, r.MaxSize = -1, int64(len(content)) },
		wantSent: int64(len(content)),
	},
	{
		name:    "unknown size over MaxSize",
		edit:    func(r *Request) { r.Size, r.MaxSize = -1, 100 },
		wantErr: []string{"larger than 100 bytes"},
	},
}

func TestFetch(t *testing.T) {
	for _, tc := range fetchCases {
		t.Run(tc.name, func(t *testing.T) {
			u := &upstream{content: content, noRange: tc.noRange}
			if tc.serve != nil {
				u.content = tc.serve
			}
			r := request(t.TempDir(), u, content)
			var log strings.Builder
			r.Logf = func(format string, args ...any) { log.WriteString(fmt.Sprintf(format, args...)) }
			if tc.edit != nil {
				tc.edit(&r)
			}
			if tc.prepare != nil {
				tc.prepare(t, r)
			}
			res, err := Fetch(context.Background(), r)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("Fetch accepted bad content")
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				for _, p := range []string{r.Path, r.Path + ".part"} {
					if _, err := os.Stat(p); err == nil {
						t.Errorf("refused content left %s behind", p)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(res.Path); !bytes.Equal(got, content) {
				t.Fatal("cached file differs from the upstream's")
			}
			if res.Cached != tc.wantCache || res.Bytes != tc.wantSent || u.sent.Load() != tc.wantSent {
				t.Errorf("cached %v, %d bytes (upstream sent %d); want cached %v, %d bytes", res.Cached, res.Bytes, u.sent.Load(), tc.wantCache, tc.wantSent)
			}
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log %q does not mention %q", log.String(), tc.wantLog)
			}
			if fi, err := os.Stat(res.Path); !tc.wantCache && (err != nil || fi.Mode().Perm() != 0o644) {
				t.Errorf("cached file mode %v, %v; want 0644", fi.Mode(), err)
			}
		})
	}
}

// Many fetchers of one file: one download, everyone gets the file.
func TestFetchConcurrent(t *testing.T) {
	content := bytes.Repeat([]byte("x"), 1<<16)
	u := &upstream{content: content, block: make(chan struct{})}
	r := request(t.TempDir(), u, content)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = Fetch(context.Background(), r)
		})
	}
	time.Sleep(200 * time.Millisecond) // let them all queue on the lock
	close(u.block)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := u.requests.Load(); n != 1 {
		t.Fatalf("%d downloads of one file, want 1", n)
	}
}

// Cancelling returns within a second, both while transferring and while
// waiting for another fetcher's lock, and keeps nothing unverified.
func TestFetchCancel(t *testing.T) {
	content := []byte("never arrives")
	for _, waitLock := range []bool{false, true} {
		name := "transfer"
		if waitLock {
			name = "lock"
		}
		t.Run(name, func(t *testing.T) {
			u := &upstream{content: content, block: make(chan struct{})}
			r := request(t.TempDir(), u, content)
			if waitLock {
				unlock, err := flock.Lock(context.Background(), r.Path+".lock", flock.Exclusive)
				if err != nil {
					t.Fatal(err)
				}
				defer unlock()
			}
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			_, err := Fetch(ctx, r)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("cancel took %s", d)
			}
			if _, err := os.Stat(r.Path); err == nil {
				t.Fatal("cancelled fetch left a cached file")
			}
		})
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
