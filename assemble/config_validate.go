package assemble

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/lkpkg/lkpkg/internal/strictyaml"
	"github.com/lkpkg/lkpkg/runconfig"
)

var (
	// containerNameRE is a container name: containerd's identifier rule (it
	// becomes the container ID and a directory name).
	containerNameRE = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)
	// yamlVolumeRE is LinuxKit's volume name rule.
	yamlVolumeRE = regexp.MustCompile(`^[a-z0-9_-]+$`)
	fileModeRE   = regexp.MustCompile(`^[0-7]{1,5}$`)
	envRE        = regexp.MustCompile(`^[^=]+=`)
	platformRE   = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$`)
)

// knownCapabilities are the capability names LinuxKit accepts.
var knownCapabilities = map[string]bool{}

func init() {
	for _, c := range strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
		SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
		SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE
		SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN
		SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE`) {
		knownCapabilities["CAP_"+c] = true
	}
}

var knownRlimits = map[string]bool{}

func init() {
	for _, r := range strings.Fields("CPU FSIZE DATA STACK CORE RSS NPROC NOFILE MEMLOCK AS LOCKS SIGPENDING MSGQUEUE NICE RTPRIO RTTIME") {
		knownRlimits["RLIMIT_"+r] = true
	}
}

// Validate checks the values the schema alone cannot: references,
// names, paths, modes, capabilities, binds against volumes, trust
// patterns. loc names the line of each field in errors.
func (img *Image) Validate(loc *strictyaml.Locator) error {
	fail := loc.Errorf
	checkRef := func(field, ref string) error {
		if ref == "" {
			return fail(field, "is required (an image reference such as linuxkit/init:<tag>)")
		}
		if _, err := name.ParseReference(ref); err != nil {
			return fail(field, "%q is not a valid image reference: %v", ref, err)
		}
		return nil
	}
	if img.Kernel.Image != "" {
		if err := checkRef("kernel.image", img.Kernel.Image); err != nil {
			return err
		}
	}
	for _, f := range []struct{ field, v string }{{"kernel.binary", img.Kernel.Binary}, {"kernel.tar", img.Kernel.Tar}, {"kernel.ucode", img.Kernel.UCode}} {
		if f.v != "" && escapesRoot(f.v) {
			return fail(f.field, "%q must be a path inside the kernel image", f.v)
		}
	}
	for i, r := range img.Init {
		if err := checkRef(fmt.Sprintf("init[%d]", i), r); err != nil {
			return err
		}
	}

	vols := map[string]*Volume{}
	for i := range img.Volumes {
		v := &img.Volumes[i]
		p := fmt.Sprintf("volumes[%d]", i)
		if v.Name == "" {
			return fail(p+".name", "is required")
		}
		if !yamlVolumeRE.MatchString(v.Name) {
			return fail(p+".name", "%q is not a valid volume name (lower-case letters, digits, '_', '-')", v.Name)
		}
		if vols[v.Name] != nil {
			return fail(p+".name", "duplicate volume name %q", v.Name)
		}
		vols[v.Name] = v
		if v.Image != "" {
			if err := checkRef(p+".image", v.Image); err != nil {
				return err
			}
		}
		switch v.Format {
		case "", "oci", "filesystem":
		default:
			return fail(p+".format", "%q must be oci or filesystem", v.Format)
		}
		for j, pl := range v.Platforms {
			if !platformRE.MatchString(pl) {
				return fail(fmt.Sprintf("%s.platforms[%d]", p, j), "%q is not a platform (expected OS/ARCH[/VARIANT], e.g. linux/arm64)", pl)
			}
		}
		if len(v.Platforms) > 0 && v.Image == "" {
			return fail(p+".platforms", "needs an image to take the platforms from")
		}
	}

	names := map[string]string{}
	for _, sec := range []struct {
		key  string
		list []ImageEntry
	}{{"onboot", img.Onboot}, {"onshutdown", img.Onshutdown}, {"services", img.Services}} {
		for i := range sec.list {
			e := &sec.list[i]
			p := fmt.Sprintf("%s[%d]", sec.key, i)
			if e.Name == "" {
				return fail(p+".name", "is required (the container name)")
			}
			if !containerNameRE.MatchString(e.Name) || len(e.Name) > 76 {
				return fail(p+".name", "%q is not a valid container name (letters, digits and '.', '_', '-' between them; at most 76 characters)", e.Name)
			}
			if prev, dup := names[e.Name]; dup {
				return fail(p+".name", "duplicate name %q (also %s): names must be unique across onboot, onshutdown and services", e.Name, prev)
			}
			names[e.Name] = p
			if err := checkRef(p+".image", e.Image); err != nil {
				return err
			}
			if err := checkContainerOptions(&e.Config, p, vols, fail); err != nil {
				return err
			}
		}
	}

	for i, f := range img.Files {
		if err := checkFileEntry(f, fmt.Sprintf("files[%d]", i), fail); err != nil {
			return err
		}
	}
	return img.Trust.validate(fail)
}

type failFunc func(field, format string, args ...any) error

func checkFileEntry(f File, p string, fail failFunc) error {
	if f.Path == "" {
		return fail(p+".path", "is required")
	}
	if escapesRoot(strings.TrimPrefix(f.Path, "/")) || path.Clean("/"+f.Path) == "/" {
		return fail(p+".path", "%q must name a path inside the root filesystem", f.Path)
	}
	var set []string
	if f.Contents != nil {
		set = append(set, "contents")
	}
	if f.Source != "" {
		set = append(set, "source")
	}
	if f.Metadata != "" {
		set = append(set, "metadata")
	}
	if f.Directory {
		set = append(set, "directory")
	}
	if f.Symlink != "" {
		set = append(set, "symlink")
	}
	switch len(set) {
	case 0:
		return fail(p, "file %q needs exactly one of contents, source, metadata, directory: true or symlink", f.Path)
	case 1:
	default:
		return fail(p+"."+set[1], "file %q sets both %s and %s: exactly one of contents, source, metadata, directory or symlink", f.Path, set[0], set[1])
	}
	if f.Metadata != "" && f.Metadata != "yaml" {
		return fail(p+".metadata", "%q is not supported (the only metadata format is yaml)", f.Metadata)
	}
	if f.Optional && f.Source == "" {
		return fail(p+".optional", "only applies to files with source")
	}
	if f.Mode != "" {
		m, err := strconv.ParseUint(f.Mode, 8, 32)
		if !fileModeRE.MatchString(f.Mode) || err != nil || m > 0o7777 {
			return fail(p+".mode", "%q is not an octal file mode (e.g. \"0644\")", f.Mode)
		}
	}
	if err := checkID(p+".uid", f.UID, fail); err != nil {
		return err
	}
	return checkID(p+".gid", f.GID, fail)
}

// checkID accepts a non-negative number or a user/group name.
func checkID(field string, v any, fail failFunc) error {
	switch id := v.(type) {
	case nil:
		return nil
	case int:
		if id < 0 || int64(id) > 1<<32-1 {
			return fail(field, "%d is not a valid id", id)
		}
		return nil
	case string:
		if id == "" {
			return fail(field, "is empty (a number or a name)")
		}
		return nil
	}
	return fail(field, "must be a number or a name, got %v", v)
}

// checkContainerOptions checks one container's options (p is its field path).
func checkContainerOptions(c *runconfig.Config, p string, vols map[string]*Volume, fail failFunc) error {
	if err := checkCapabilities(c, p, fail); err != nil {
		return err
	}
	if err := checkVolumeUse(c, p, vols, fail); err != nil {
		return err
	}
	if c.Tmpfs != nil {
		for j, t := range *c.Tmpfs {
			parts := strings.Split(t, ":")
			if len(parts) > 2 || !strings.HasPrefix(parts[0], "/") {
				return fail(fmt.Sprintf("%s.tmpfs[%d]", p, j), "%q must be /DESTINATION[:OPTIONS]", t)
			}
		}
	}
	if c.Env != nil {
		for j, e := range *c.Env {
			if !envRE.MatchString(e) {
				return fail(fmt.Sprintf("%s.env[%d]", p, j), "%q must be NAME=VALUE", e)
			}
		}
	}
	if c.Cwd != "" && !strings.HasPrefix(c.Cwd, "/") {
		return fail(p+".cwd", "%q must be an absolute path", c.Cwd)
	}
	for _, ns := range []struct{ key, v string }{{"net", c.Net}, {"pid", c.Pid}, {"ipc", c.Ipc}, {"uts", c.Uts}, {"userns", c.Userns}} {
		switch {
		case ns.v == "", ns.v == "host", ns.v == "root", ns.v == "new", strings.HasPrefix(ns.v, "/"):
		case ns.v == "none" && ns.key == "net":
		default:
			return fail(p+"."+ns.key, "%q must be host, root, new%s or a namespace path such as /run/netns/foo", ns.v, map[bool]string{true: ", none"}[ns.key == "net"])
		}
	}
	if c.Rlimits != nil {
		for j, r := range *c.Rlimits {
			if !rlimitOK(r) {
				return fail(fmt.Sprintf("%s.rlimits[%d]", p, j), "%q must be NAME,SOFT,HARD (e.g. nofile,1024,4096; unlimited allowed)", r)
			}
		}
	}
	if c.OOMScoreAdj != nil && (*c.OOMScoreAdj < -1000 || *c.OOMScoreAdj > 1000) {
		return fail(p+".oomScoreAdj", "%d is outside -1000..1000", *c.OOMScoreAdj)
	}
	if c.RootfsPropagation != nil {
		switch *c.RootfsPropagation {
		case "", "shared", "slave", "private", "rshared", "rslave", "rprivate", "unbindable", "runbindable":
		default:
			return fail(p+".rootfsPropagation", "%q must be one of shared, slave, private, unbindable (or r-prefixed)", *c.RootfsPropagation)
		}
	}
	if c.UID != nil {
		if err := checkID(p+".uid", *c.UID, fail); err != nil {
			return err
		}
	}
	if c.GID != nil {
		if err := checkID(p+".gid", *c.GID, fail); err != nil {
			return err
		}
	}
	if c.AdditionalGids != nil {
		for j, g := range *c.AdditionalGids {
			if err := checkID(fmt.Sprintf("%s.additionalGids[%d]", p, j), g, fail); err != nil {
				return err
			}
		}
	}
	return nil
}

func rlimitOK(s string) bool {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return false
	}
	n := strings.ToUpper(strings.TrimSpace(parts[0]))
	if !strings.HasPrefix(n, "RLIMIT_") {
		n = "RLIMIT_" + n
	}
	if !knownRlimits[n] {
		return false
	}
	for _, v := range parts[1:] {
		v = strings.TrimSpace(v)
		if strings.EqualFold(v, "unlimited") {
			continue
		}
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			return false
		}
	}
	return true
}

func (t *Trust) validate(fail failFunc) error {
	for i, org := range t.Org {
		if !repoPrefixOK(org) {
			return fail(fmt.Sprintf("trust.org[%d]", i), "%q is not an organisation (e.g. linuxkit or registry.example.com/team)", org)
		}
	}
	for i, im := range t.Image {
		if _, err := name.ParseReference(im); err != nil || strings.Contains(im, "*") {
			return fail(fmt.Sprintf("trust.image[%d]", i), "%q is not an image name (e.g. linuxkit/kernel or linuxkit/kernel:6.6.71)", im)
		}
	}
	for i, c := range t.Cosign {
		p := fmt.Sprintf("trust.cosign[%d]", i)
		if c.Match == "" {
			return fail(p+".match", "is required (a repository, or a prefix ending in /* such as registry.example.com/team/*)")
		}
		prefix, wild := strings.CutSuffix(c.Match, "/*")
		ok := repoPrefixOK(prefix)
		if !wild && ok {
			_, err := name.NewRepository(prefix)
			ok = err == nil
		}
		if !ok {
			return fail(p+".match", "%q is not a pattern: expected a repository (docker.io/linuxkit/init) or a prefix ending in /* (registry.example.com/team/*)", c.Match)
		}
		if c.Key == "" {
			return fail(p+".key", "is required (a cosign public key)")
		}
	}
	if n := t.Notation; n != nil {
		if n.Policy == "" {
			return fail("trust.notation.policy", "is required (a notation trustpolicy.json)")
		}
		if n.TrustStore == "" {
			return fail("trust.notation.truststore", "is required (a notation trust store directory)")
		}
	}
	return nil
}

// checkCapabilities checks capabilities and ambient: CAP_ names, or a
// single all or none.
func checkCapabilities(c *runconfig.Config, p string, fail failFunc) error {
	for _, caps := range []struct {
		key  string
		list *[]string
	}{{"capabilities", c.Capabilities}, {"ambient", c.Ambient}} {
		if caps.list == nil {
			continue
		}
		l := *caps.list
		if len(l) == 1 && (strings.EqualFold(l[0], "all") || strings.EqualFold(l[0], "none")) {
			continue
		}
		for j, cp := range l {
			if !knownCapabilities[cp] {
				msg := "%q is not a capability (CAP_NET_ADMIN, ...; or a single all or none)"
				if strings.EqualFold(cp, "all") || strings.EqualFold(cp, "none") {
					msg = "%q must be the only entry"
				}
				return fail(fmt.Sprintf("%s.%s[%d]", p, caps.key, j), msg, cp)
			}
		}
	}
	return nil
}

// checkVolumeUse checks binds and mounts: each names an absolute
// path or a volume, and a read-only volume is mounted read-only.
func checkVolumeUse(c *runconfig.Config, p string, vols map[string]*Volume, fail failFunc) error {
	checkBinds := func(key string, list *[]string) error {
		if list == nil {
			return nil
		}
		for j, b := range *list {
			f := fmt.Sprintf("%s.%s[%d]", p, key, j)
			parts := strings.Split(b, ":")
			if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") {
				return fail(f, "%q must be SOURCE:/DESTINATION[:OPTIONS]", b)
			}
			if strings.HasPrefix(parts[0], "/") {
				continue
			}
			v := vols[parts[0]]
			if v == nil {
				return fail(f, "%q: source %q is neither an absolute path nor a volume in volumes:", b, parts[0])
			}
			if v.ReadOnly && (len(parts) < 3 || !volumeReadOnlyOK(strings.Split(parts[2], ","))) {
				return fail(f, "%q: volume %q is read-only, but the bind would mount it read-write (give it the ro option, e.g. %s:%s:ro)", b, v.Name, parts[0], parts[1])
			}
		}
		return nil
	}
	if err := checkBinds("binds", c.Binds); err != nil {
		return err
	}
	if err := checkBinds("binds.add", c.BindsAdd); err != nil {
		return err
	}
	if c.Mounts == nil {
		return nil
	}
	for j, m := range *c.Mounts {
		f := fmt.Sprintf("%s.mounts[%d]", p, j)
		if m.Destination != "" && !strings.HasPrefix(m.Destination, "/") {
			return fail(f+".destination", "%q must be an absolute path", m.Destination)
		}
		if m.Type == "bind" && !strings.HasPrefix(m.Source, "/") {
			if m.Source == "" {
				return fail(f+".source", "is required for a bind mount (an absolute path or a volume in volumes:)")
			}
			v := vols[m.Source]
			if v == nil {
				return fail(f+".source", "%q is neither an absolute path nor a volume in volumes:", m.Source)
			}
			if v.ReadOnly && !volumeReadOnlyOK(m.Options) {
				return fail(f+".options", "volume %q is read-only, but the mount would mount it read-write (add ro to its options)", v.Name)
			}
		}
	}
	return nil
}
