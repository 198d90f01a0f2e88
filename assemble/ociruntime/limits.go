package ociruntime

// Capabilities and rlimits: the names "all" expands to and the rlimits
// LinuxKit accepts, fixed here so that the same YAML gives the same
// config.json whatever the dependency versions.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// allCaps is every capability the kernel knows, in kernel number order
// (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40), as LinuxKit's allCaps.
// It is fixed here rather than taken from a library so that "all" expands
// to the same list whatever the dependency versions.
var allCaps = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// defaultCaps is the capability set of a container whose label and YAML
// name none. LinuxKit grants nothing by default: a package that needs a
// capability declares it in its label.
var defaultCaps = []string{}

// rlimitNames are the rlimit names LinuxKit accepts.
var rlimitNames = map[string]bool{
	"RLIMIT_CPU": true, "RLIMIT_FSIZE": true, "RLIMIT_DATA": true, "RLIMIT_STACK": true,
	"RLIMIT_CORE": true, "RLIMIT_RSS": true, "RLIMIT_NPROC": true, "RLIMIT_NOFILE": true,
	"RLIMIT_MEMLOCK": true, "RLIMIT_AS": true, "RLIMIT_LOCKS": true, "RLIMIT_SIGPENDING": true,
	"RLIMIT_MSGQUEUE": true, "RLIMIT_NICE": true, "RLIMIT_RTPRIO": true, "RLIMIT_RTTIME": true,
}

// capsOf resolves a capability list: YAML, else label, else def; a lone
// "all" or "none" expands; names are normalised to CAP_UPPER and checked.
// Duplicates are dropped, the first occurrence keeping its place.
func capsOf(field string, label, yaml *[]string, def []string) ([]string, error) {
	entries := pickEntries(field, label, yaml)
	if label == nil && yaml == nil {
		entries = entriesOf(field, def)
	}
	if len(entries) == 1 {
		switch strings.ToLower(strings.TrimSpace(entries[0].value)) {
		case "none":
			return []string{}, nil
		case "all":
			return slices.Clone(allCaps), nil
		}
	}
	out := []string{}
	seen := map[string]bool{}
	for _, e := range entries {
		c := strings.ToUpper(strings.TrimSpace(e.value))
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !slices.Contains(allCaps, c) {
			if strings.EqualFold(c, "CAP_ALL") || strings.EqualFold(c, "CAP_NONE") {
				return nil, fmt.Errorf("%s %q: %q must be the only entry", e.field, e.value, e.value)
			}
			return nil, fmt.Errorf("%s %q: unknown capability", e.field, e.value)
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

func sortedUnion(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// rlimitsOf parses "NAME,SOFT,HARD" entries.
func rlimitsOf(label, yaml *[]string) ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	for _, e := range pickEntries("rlimits", label, yaml) {
		parts := strings.Split(e.value, ",")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s %q: want NAME,SOFT,HARD", e.field, e.value)
		}
		limit := strings.ToUpper(strings.TrimSpace(parts[0]))
		if !strings.HasPrefix(limit, "RLIMIT_") {
			limit = "RLIMIT_" + limit
		}
		if !rlimitNames[limit] {
			return nil, fmt.Errorf("%s %q: unknown limit %q", e.field, e.value, strings.TrimSpace(parts[0]))
		}
		var vals [2]uint64
		for i, s := range parts[1:] {
			s = strings.TrimSpace(s)
			if strings.EqualFold(s, "unlimited") {
				vals[i] = math.MaxUint64
				continue
			}
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %s %q is not a number or \"unlimited\"", e.field, e.value, [2]string{"soft", "hard"}[i], s)
			}
			vals[i] = v
		}
		if vals[0] > vals[1] {
			return nil, fmt.Errorf("%s %q: soft limit above hard limit", e.field, e.value)
		}
		out = append(out, specs.POSIXRlimit{Type: limit, Soft: vals[0], Hard: vals[1]})
	}
	return out, nil
}
