package gomod

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/mod/module"
)

// DefaultProxy is the module proxy used when Client.Proxy is empty.
const DefaultProxy = "https://proxy.golang.org"

// DefaultSumDB is the checksum database used when Client.SumDB is empty.
const DefaultSumDB = "sum.golang.org"

// Module is one module version with its go.sum hashes.
type Module struct {
	Path, Version string
	// Sum is the h1: hash of the module zip; "" for a module of which
	// only go.mod is needed.
	Sum string
	// GoModSum is the h1: hash of the module's go.mod.
	GoModSum string
}

// String is path@version.
func (m Module) String() string { return m.Path + "@" + m.Version }

// Files are the verified cached files of one module version.
type Files struct {
	Info, Mod, Zip string // Zip is "" for a go.mod-only module
}

// Client fetches modules through a module proxy into a download cache.
// The zero value is not usable: CacheDir is required.
type Client struct {
	// Proxy is one GOPROXY-style URL: http(s):// or file://.
	// "" means DefaultProxy.
	Proxy string
	// SumDB is a GOSUMDB-style checksum database: "sum.golang.org"
	// (its well-known key), a verifier key "name+hash+key", either
	// optionally followed by a space and the database's URL. Without a URL
	// the database is read through Proxy+"/sumdb/NAME" if the proxy
	// supports it (as the go command does), else from https://NAME.
	// "" means DefaultSumDB.
	SumDB string
	// CacheDir is the persistent download cache (required), so that
	// reruns work offline.
	CacheDir string
	// HTTP is the client for remote requests; nil means a client with a
	// generous timeout (toolchain zips are ~70 MiB).
	HTTP *http.Client
	// Progress gets one line per file downloaded; nil is silent.
	Progress io.Writer
}

func (c *Client) proxy() string {
	if c.Proxy == "" {
		return DefaultProxy
	}
	return strings.TrimSuffix(c.Proxy, "/")
}

func (c *Client) cacheDir() (string, error) {
	if c.CacheDir == "" {
		return "", errors.New("gomod: Client.CacheDir is required")
	}
	return c.CacheDir, nil
}

func (c *Client) logf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// escaped returns the case-escaped path and version of m, as the proxy
// protocol and the cache layout name them.
func escaped(path, version string) (epath, ever string, err error) {
	if err := module.Check(path, version); err != nil {
		return "", "", err
	}
	if epath, err = module.EscapePath(path); err != nil {
		return "", "", err
	}
	if ever, err = module.EscapeVersion(version); err != nil {
		return "", "", err
	}
	return epath, ever, nil
}
