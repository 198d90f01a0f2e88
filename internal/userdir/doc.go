// Package userdir places lkpkg's per-user state below the user's cache
// directory. It reads no lkpkg variables: overrides such as $LKPKG_CACHE
// are read by cmd/lkpkg, which passes the result down as an option.
package userdir
