package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/lkpkg/lkpkg/cache"
	"github.com/lkpkg/lkpkg/internal/userdir"
	"github.com/lkpkg/lkpkg/pkgbuild/buildkitd"
)

// envVar is an environment variable lkpkg reads. The libraries read none:
// cmd/lkpkg reads them and passes the values down as options, so this
// table is the whole list (shown by `lkpkg --help` and in the README).
type envVar struct {
	Name    string
	Meaning string
}

// environment lists every variable lkpkg reads, in the order --help shows
// them.
var environment = []envVar{
	{cache.DirEnv, "local image cache, when --cache is not given (default ~/.cache/lkpkg/oci)"},
	{buildkitd.StateDirEnv, "state directory of the embedded buildkitd, when --builder-state is not given (default ~/.cache/lkpkg/buildkit)"},
	{buildkitd.BinaryEnv, "buildkitd binary the embedded daemon runs (default: beside lkpkg, ../bin/buildkitd, then $PATH)"},
	{buildkitHostEnv, "buildkitd address(es) when --builder is not given"},
	{"LKPKG_APK_UPSTREAM", "mirror packages: APK upstream to fetch locked packages from (--apk-upstream)"},
	{"LKPKG_DEB_UPSTREAM", "mirror packages: Debian upstream to fetch locked packages from"},
	{"LKPKG_MIRROR_SIGNING_KEY", "mirror packages: the mirror's private key (--mirror-signing-key)"},
	{"LKPKG_APK_CACHE", "download cache of APK files (default ~/.cache/lkpkg/apk)"},
	{"LKPKG_DEB_CACHE", "download cache of Debian files (default ~/.cache/lkpkg/deb)"},
	{"LKPKG_GOMOD_CACHE", "download cache of Go toolchains and modules (default ~/.cache/lkpkg/gomod)"},
	{"LKPKG_COSIGN_KEY", "cosign private key (--key)"},
	{"COSIGN_PASSWORD", "password of the cosign private key (else a prompt)"},
	{"LKPKG_NOTATION_KEY", "notation signing key (--notation-key)"},
	{"LKPKG_NOTATION_CERT", "notation signing certificate chain (--notation-cert)"},
}

// buildkitHostEnv is buildctl's variable for the daemon address.
const buildkitHostEnv = "BUILDKIT_HOST"

// environmentHelp formats the table for --help.
func environmentHelp() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, v := range environment {
		fmt.Fprintf(tw, "  %s\t%s\n", v.Name, v.Meaning)
	}
	tw.Flush()
	return b.String()
}

// userCacheDir is flagValue if set, else $env, else sub in the user's cache
// directory; the error says what to set when there is none.
func userCacheDir(flagValue, env, sub string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if d := os.Getenv(env); d != "" {
		return d, nil
	}
	return userdir.CacheDir(sub, "$"+env)
}
