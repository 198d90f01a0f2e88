// Package ociruntime is the stage of assemble that writes each
// container's OCI runtime config (config.json).
//
// Spec generation for onboot, onshutdown and service containers,
// following LinuxKit's moby.ConfigToOCI so that a config.json written by
// `lkpkg build` matches the one `linuxkit build` writes for the same inputs.
//
// Three layers feed each field: the image's OCI config (only Env,
// Entrypoint+Cmd and WorkingDir, as in LinuxKit), the image's
// org.mobyproject.config label, and the image YAML entry. A field set in a
// later layer replaces the earlier value whole; lists are not merged, except
// `binds.add`, which appends to the binds in force.
package ociruntime
