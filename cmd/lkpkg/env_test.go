package main

import (
	"strings"
	"testing"
)

// Flags win over the environment, the environment over the user's cache
// directory; with none of them the error says what to set.
func TestUserCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/xdg")
	t.Setenv("LKPKG_CACHE", "/x/env")
	for _, tt := range []struct{ flag, env, want string }{
		{"/x/flag", "/x/env", "/x/flag"},
		{"", "/x/env", "/x/env"},
		{"", "", "/x/xdg/lkpkg/oci"},
	} {
		t.Setenv("LKPKG_CACHE", tt.env)
		if got, err := userCacheDir(tt.flag, "LKPKG_CACHE", "oci"); err != nil || got != tt.want {
			t.Errorf("flag %q, env %q: %q, %v; want %q", tt.flag, tt.env, got, err, tt.want)
		}
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	if _, err := userCacheDir("", "LKPKG_CACHE", "oci"); err == nil || !strings.Contains(err.Error(), "$LKPKG_CACHE") {
		t.Errorf("no user directory: err = %v", err)
	}
}

// $LKPKG_BUILDKITD reaches the daemon as its binary (the buildkitd
// package reads no environment).
func TestDaemonFromEnvironment(t *testing.T) {
	t.Setenv("LKPKG_BUILDKITD", "/x/buildkitd")
	t.Setenv("LKPKG_BUILDER_DIR", "/x/state")
	d := (&globalFlags{}).daemon()
	if d.Binary != "/x/buildkitd" || d.StateDir != "/x/state" {
		t.Errorf("daemon() = binary %q, state %q", d.Binary, d.StateDir)
	}
	if d := (&globalFlags{builderDir: "/x/flag"}).daemon(); d.StateDir != "/x/flag" {
		t.Errorf("--builder-state: state %q", d.StateDir)
	}
}

// Every variable is listed once in the --help table.
func TestEnvironmentTable(t *testing.T) {
	seen := map[string]bool{}
	help := environmentHelp()
	for _, v := range environment {
		if seen[v.Name] {
			t.Errorf("%s listed twice", v.Name)
		}
		seen[v.Name] = true
		if !strings.Contains(help, v.Name) {
			t.Errorf("--help lacks %s", v.Name)
		}
	}
}
