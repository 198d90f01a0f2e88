package gomod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"

	"github.com/lkpkg/lkpkg/internal/atomicfile"
	"github.com/lkpkg/lkpkg/internal/flock"
)

// knownSumDB are the verifier keys of well-known checksum databases, as
// built into the go command (cmd/go/internal/modfetch/key.go).
var knownSumDB = map[string]string{
	"sum.golang.org": "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
}

// sumDBConfig is a parsed Client.SumDB.
type sumDBConfig struct {
	key  string // verifier key
	name string // database name, from the key
	url  string // explicit base URL; "" = via the proxy, else https://name
}

func parseSumDB(s string) (sumDBConfig, error) {
	if s == "" {
		s = DefaultSumDB
	}
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return sumDBConfig{}, fmt.Errorf("invalid SumDB %q: want KEY or KEY URL", s)
	}
	key := f[0]
	if k, ok := knownSumDB[key]; ok {
		key = k
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return sumDBConfig{}, fmt.Errorf("invalid SumDB %q: %v", s, err)
	}
	cfg := sumDBConfig{key: key, name: v.Name()}
	// The name becomes a cache directory and a URL path: no funny business.
	if strings.Contains(cfg.name, "..") || strings.ContainsAny(cfg.name, `\?#@: `) || strings.HasPrefix(cfg.name, "/") || strings.HasSuffix(cfg.name, "/") {
		return sumDBConfig{}, fmt.Errorf("invalid SumDB name %q", cfg.name)
	}
	if len(f) == 2 {
		if _, err := url.Parse(f[1]); err != nil {
			return sumDBConfig{}, fmt.Errorf("invalid SumDB URL: %v", err)
		}
		cfg.url = strings.TrimSuffix(f[1], "/")
	}
	return cfg, nil
}

// sumOps is the sumdb.ClientOps of one operation (a Lookup or a Closure):
// it carries that operation's context, which the ClientOps interface does
// not. The database's state lives under CacheDir/sumdb, shared by all.
type sumOps struct {
	ctx context.Context
	c   *Client
	cfg sumDBConfig
	dir string // CacheDir/sumdb

	baseOnce sync.Once
	base     string
	baseErr  error

	mu       sync.Mutex
	security []string // SecurityError messages, reported with the error
}

func (o *sumOps) ReadRemote(path string) ([]byte, error) {
	o.baseOnce.Do(o.findBase)
	if o.baseErr != nil {
		return nil, o.baseErr
	}
	// Tiles are 8 KiB at most; lookups are a few lines and a signed note.
	return o.c.readAll(o.ctx, o.base, strings.TrimPrefix(path, "/"), 1<<20)
}

// findBase decides where the database is read: an explicit URL, else the
// proxy if it says it supports the database, else the database itself.
// A proxy that fails otherwise is an error, not a reason to go direct,
// like in the go command.
func (o *sumOps) findBase() {
	if o.cfg.url != "" {
		o.base = o.cfg.url
		return
	}
	viaProxy := o.c.proxy() + "/sumdb/" + o.cfg.name
	_, err := o.c.readAll(o.ctx, viaProxy, "supported", 1<<10)
	switch {
	case err == nil:
		o.base = viaProxy
	case errors.Is(err, errNotFound):
		o.base = "https://" + o.cfg.name
	default:
		o.baseErr = fmt.Errorf("checksum database %s through the proxy: %w", o.cfg.name, err)
	}
}

func (o *sumOps) ReadConfig(file string) ([]byte, error) {
	if file == "key" {
		return []byte(o.cfg.key), nil
	}
	b, err := os.ReadFile(o.configPath(file))
	if errors.Is(err, os.ErrNotExist) {
		return []byte{}, nil // the first contact: start from an empty tree
	}
	return b, err
}

// WriteConfig is a compare-and-swap of the latest signed tree head: other
// processes may move it forward concurrently.
func (o *sumOps) WriteConfig(file string, old, new []byte) error {
	if file == "key" {
		return errors.New("cannot write the checksum database key")
	}
	p := o.configPath(file)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	// The lock serialises the compare-and-swap between processes sharing
	// a cache.
	unlock, err := flock.Lock(o.ctx, p+".lock", flock.Exclusive)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(cur) > 0 && !bytes.Equal(cur, old) {
		return sumdb.ErrWriteConflict
	}
	return atomicfile.WriteFile(p, new, 0o644)
}

func (o *sumOps) configPath(file string) string {
	return filepath.Join(o.dir, "config", filepath.FromSlash(file))
}

func (o *sumOps) ReadCache(file string) ([]byte, error) {
	return os.ReadFile(filepath.Join(o.dir, "cache", filepath.FromSlash(file)))
}

// WriteCache keeps tiles and lookups; failing to is only slower later.
func (o *sumOps) WriteCache(file string, data []byte) {
	p := filepath.Join(o.dir, "cache", filepath.FromSlash(file))
	if os.MkdirAll(filepath.Dir(p), 0o755) == nil {
		atomicfile.WriteFile(p, data, 0o644)
	}
}

func (o *sumOps) Log(msg string) { o.c.logf("sumdb: %s", msg) }

// SecurityError keeps the message: the Client then fails with
// sumdb.ErrSecurity, and the caller reports both.
func (o *sumOps) SecurityError(msg string) {
	o.mu.Lock()
	o.security = append(o.security, msg)
	o.mu.Unlock()
}

// sumSession is a checksum database client for one operation.
type sumSession struct {
	ops *sumOps
	db  *sumdb.Client
}

func (c *Client) newSumSession(ctx context.Context) (*sumSession, error) {
	dir, err := c.cacheDir()
	if err != nil {
		return nil, err
	}
	cfg, err := parseSumDB(c.SumDB)
	if err != nil {
		return nil, err
	}
	ops := &sumOps{ctx: ctx, c: c, cfg: cfg, dir: filepath.Join(dir, "sumdb")}
	return &sumSession{ops: ops, db: sumdb.NewClient(ops)}, nil
}

// Lookup resolves the go.sum hashes of path@version from the checksum
// database, verifying its signed tree head and the record's inclusion
// proof (and the consistency of every tree head seen with the ones seen
// before, kept under CacheDir). The result has both Sum and GoModSum.
func (c *Client) Lookup(ctx context.Context, path, version string) (Module, error) {
	s, err := c.newSumSession(ctx)
	if err != nil {
		return Module{}, err
	}
	return s.lookup(path, version)
}

func (s *sumSession) lookup(path, version string) (Module, error) {
	if _, _, err := escaped(path, version); err != nil {
		return Module{}, err
	}
	m := Module{Path: path, Version: version}
	// Every answer is proved against a signed tree head each time: a
	// stored answer would be trusted on the strength of a file anyone with
	// write access to the cache could plant. So locking needs the database
	// (through the proxy); fetching from a lock does not.
	lines, err := s.db.Lookup(path, version)
	if err == nil {
		var mod []string
		mod, err = s.db.Lookup(path, version+"/go.mod")
		lines = append(lines, mod...)
	}
	if err != nil {
		s.ops.mu.Lock()
		sec := strings.Join(s.ops.security, "\n")
		s.ops.mu.Unlock()
		if sec != "" {
			return Module{}, fmt.Errorf("checksum database %s: %w\n%s", s.ops.cfg.name, err, sec)
		}
		return Module{}, fmt.Errorf("checksum database %s: %w", s.ops.cfg.name, err)
	}
	text := strings.Join(lines, "\n") + "\n"
	if err := parseSums(&m, text); err != nil {
		return Module{}, fmt.Errorf("checksum database %s: %w", s.ops.cfg.name, err)
	}
	return m, nil
}

// parseSums fills m's hashes from go.sum lines for m, requiring both the
// zip's and the go.mod's h1: hash.
func parseSums(m *Module, text string) error {
	m.Sum, m.GoModSum = "", ""
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != m.Path || !strings.HasPrefix(f[2], "h1:") {
			continue
		}
		switch f[1] {
		case m.Version:
			m.Sum = f[2]
		case m.Version + "/go.mod":
			m.GoModSum = f[2]
		}
	}
	if m.Sum == "" || m.GoModSum == "" {
		return fmt.Errorf("%s: no h1: hashes for the zip and go.mod in %q", m, text)
	}
	return nil
}
