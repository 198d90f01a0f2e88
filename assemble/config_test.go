package assemble

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// yamlExampleSSHD has the shape of LinuxKit's examples/sshd.yml.
const yamlExampleSSHD = `kernel:
  image: linuxkit/kernel:6.6.71
  cmdline: "console=tty0 console=ttyS0 console=ttyAMA0"
init:
  - linuxkit/init:8eea386739975a43af558eec757a7dcb3a3d2e7b
  - linuxkit/runc:667e7ea2c426a2460ca21e3da065a57dbb3369c9
  - linuxkit/containerd:a988a1a8bcbacb2c0c4d3f5f4c8d1e0a3c8d6a2b
  - linuxkit/ca-certificates:7b32a26ca9c275d3ef32b11fe2a83dbd2aee2fdb
onboot:
  - name: sysctl
    image: linuxkit/sysctl:5f56434b81004b50b47ed629b222619168c2bcdf
  - name: dhcpcd
    image: linuxkit/dhcpcd:157df9ef45a035f1542ec2270e374f18efef98a5
    command: ["/sbin/dhcpcd", "--nobackground", "-f", "/dhcpcd.conf", "-1"]
services:
  - name: getty
    image: linuxkit/getty:5d86a2ce2d890c14ab66b13638dcadf74f29218b
    env:
     - INSECURE=true
  - name: rngd
    image: linuxkit/rngd:cdb919e4aee49fed0bf6075f0a104037cba83c39
files:
  - path: etc/linuxkit-config
    metadata: yaml
trust:
  org:
    - linuxkit
`

func TestParseImageExample(t *testing.T) {
	img, err := ParseImage("sshd.yml", []byte(yamlExampleSSHD))
	if err != nil {
		t.Fatal(err)
	}
	if img.Kernel.Image != "linuxkit/kernel:6.6.71" || img.Kernel.Cmdline != "console=tty0 console=ttyS0 console=ttyAMA0" {
		t.Errorf("kernel = %+v", img.Kernel)
	}
	if len(img.Init) != 4 || img.Init[3] != "linuxkit/ca-certificates:7b32a26ca9c275d3ef32b11fe2a83dbd2aee2fdb" {
		t.Errorf("init = %v", img.Init)
	}
	if len(img.Onboot) != 2 || img.Onboot[1].Name != "dhcpcd" || img.Onboot[1].Command == nil ||
		!reflect.DeepEqual(*img.Onboot[1].Command, []string{"/sbin/dhcpcd", "--nobackground", "-f", "/dhcpcd.conf", "-1"}) {
		t.Errorf("onboot = %+v", img.Onboot)
	}
	if img.Onboot[0].Command != nil || img.Onboot[0].Capabilities != nil {
		t.Errorf("unset options must stay nil: %+v", img.Onboot[0].Config)
	}
	if len(img.Services) != 2 || img.Services[0].Env == nil || !reflect.DeepEqual(*img.Services[0].Env, []string{"INSECURE=true"}) {
		t.Errorf("services = %+v", img.Services)
	}
	if len(img.Files) != 1 || img.Files[0].Path != "etc/linuxkit-config" || img.Files[0].Metadata != "yaml" {
		t.Errorf("files = %+v", img.Files)
	}
	if !reflect.DeepEqual(img.Trust.Org, []string{"linuxkit"}) {
		t.Errorf("trust = %+v", img.Trust)
	}
}

// TestParseImageEveryField covers the rest of the schema: LinuxKit's
// camelCase runtime-spec names, volumes, every kind of file, anchors and
// merge keys, and the lkpkg trust extension.
func TestParseImageEveryField(t *testing.T) {
	const y = `kernel:
  image: linuxkit/kernel:6.6.71
  binary: bzImage
  tar: none
  ucode: intel-ucode.cpio
init: [linuxkit/init:v1]
onboot:
  - name: format
    image: linuxkit/format:v1
    binds: [/dev:/dev]
    capabilities: [all]
onshutdown:
  - name: shutdown
    image: busybox:1.36
    command: ["/bin/echo", "bye"]
services:
  - &svc
    name: sshd
    image: linuxkit/sshd:v1
    capabilities: [CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT]
    binds.add: ["/root/.ssh:/root/.ssh", "data:/data:ro"]
    mounts:
      - {type: bind, source: data, destination: /data2, options: [rbind, ro]}
    tmpfs: ["/run:size=10m"]
    net: host
    pid: /run/netns/foo
    readonly: true
    uid: sshd
    gid: 100
    additionalGids: [wheel, 10]
    oomScoreAdj: -500
    rootfsPropagation: shared
    cgroupsPath: /sshd
    rlimits: ["nofile,1024,unlimited"]
    sysctl: {net.ipv4.ip_forward: "1"}
    annotations: {org.example: x}
    resources:
      memory: {limit: 104857600, kernelTCP: 1, disableOOMKiller: true}
      cpu: {shares: 512, realtimeRuntime: 10}
      hugepageLimits: [{pageSize: 2MB, limit: 1}]
      blockIO: {weight: 10}
      devices: [{allow: false, access: rwm}]
    uidMappings: [{containerID: 0, hostID: 100000, size: 65536}]
    gidMappings: [{containerid: 0, hostid: 100000, size: 65536}]
    runtime:
      mkdir: [/var/lib/sshd]
      cgroups: [sshd]
      interfaces: [{name: eth1, add: veth, peer: veth1, createInRoot: true}]
      bindNS: {net: /run/netns/sshd}
      namespace: sshd
      mounts: [{type: bind, source: /x, destination: /y}]
  - <<: *svc
    name: sshd2
    image: docker.io/linuxkit/sshd:v1
files:
  - path: /etc/motd
    contents: ""
    mode: "0644"
    uid: 0
    gid: root
  - path: root/.ssh/authorized_keys
    source: ~/.ssh/id_ed25519.pub
    optional: true
    mode: 0600
  - {path: var/lib/data, directory: true, mode: "755"}
  - {path: etc/resolv.conf, symlink: /run/resolv.conf}
volumes:
  - {name: data, image: alpine:3.20, format: oci, platforms: [linux/amd64, linux/arm64/v8], readonly: true}
  - {name: scratch}
trust:
  org: [linuxkit, registry.example.com:5000/team]
  image: [busybox, alpine:3.20]
  cosign:
    - {match: "registry.example.com/team/*", key: keys/team.pub}
    - {match: docker.io/linuxkit/sshd, key: keys/sshd.pub}
  notation: {policy: trustpolicy.json, truststore: truststore}
`
	img, err := ParseImage("all.yml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if img.Kernel != (Kernel{Image: "linuxkit/kernel:6.6.71", Binary: "bzImage", Tar: "none", UCode: "intel-ucode.cpio"}) {
		t.Errorf("kernel = %+v", img.Kernel)
	}
	s := img.Services[0]
	r := s.Resources
	if r == nil || *r.Memory.Limit != 104857600 || *r.Memory.KernelTCP != 1 || !*r.Memory.DisableOOMKiller ||
		*r.CPU.Shares != 512 || *r.CPU.RealtimeRuntime != 10 || r.HugepageLimits[0].Pagesize != "2MB" ||
		*r.BlockIO.Weight != 10 || r.Devices[0].Access != "rwm" {
		t.Errorf("resources = %+v", r)
	}
	if m := *s.UIDMappings; m[0].HostID != 100000 || m[0].Size != 65536 {
		t.Errorf("uidMappings = %+v", m)
	}
	if m := *s.GIDMappings; m[0].HostID != 100000 {
		t.Errorf("gidMappings = %+v", m)
	}
	if (*s.Mounts)[0].Source != "data" || *s.UID != any("sshd") || *s.GID != any(100) || *s.OOMScoreAdj != -500 {
		t.Errorf("options = %+v", s.Config)
	}
	if rt := s.Runtime; rt == nil || *rt.Namespace != "sshd" || !(*rt.Interfaces)[0].CreateInRoot || *rt.BindNS.Net != "/run/netns/sshd" {
		t.Errorf("runtime = %+v", s.Runtime)
	}
	s2 := img.Services[1]
	if s2.Name != "sshd2" || s2.Image != "docker.io/linuxkit/sshd:v1" || s2.Net != "host" || (*s2.Capabilities)[1] != "CAP_SYS_CHROOT" {
		t.Errorf("merged service = %+v", s2)
	}
	f := img.Files
	if f[0].Contents == nil || *f[0].Contents != "" || f[0].UID != any(0) || f[0].GID != any("root") || f[1].Mode != "0600" || !f[2].Directory || f[3].Symlink == "" {
		t.Errorf("files = %+v", f)
	}
	if v := img.Volumes[0]; v.Format != "oci" || !v.ReadOnly || len(v.Platforms) != 2 {
		t.Errorf("volumes = %+v", img.Volumes)
	}
	if tr := img.Trust; len(tr.Cosign) != 2 || tr.Notation.TrustStore != "truststore" {
		t.Errorf("trust = %+v", tr)
	}
}

func TestImageRefs(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"example", yamlExampleSSHD, []string{
			"linuxkit/kernel:6.6.71",
			"linuxkit/init:8eea386739975a43af558eec757a7dcb3a3d2e7b",
			"linuxkit/runc:667e7ea2c426a2460ca21e3da065a57dbb3369c9",
			"linuxkit/containerd:a988a1a8bcbacb2c0c4d3f5f4c8d1e0a3c8d6a2b",
			"linuxkit/ca-certificates:7b32a26ca9c275d3ef32b11fe2a83dbd2aee2fdb",
			"linuxkit/sysctl:5f56434b81004b50b47ed629b222619168c2bcdf",
			"linuxkit/dhcpcd:157df9ef45a035f1542ec2270e374f18efef98a5",
			"linuxkit/getty:5d86a2ce2d890c14ab66b13638dcadf74f29218b",
			"linuxkit/rngd:cdb919e4aee49fed0bf6075f0a104037cba83c39",
		}},
		{"order and duplicates", `volumes:
  - {name: v, image: alpine:3.20}
  - {name: empty}
services:
  - {name: a, image: linuxkit/getty:v1}
  - {name: b, image: docker.io/linuxkit/getty:v1}
  - {name: c, image: index.docker.io/linuxkit/getty:v1}
onshutdown:
  - {name: d, image: linuxkit/getty:v2}
onboot:
  - {name: e, image: "linuxkit/dhcpcd:v1@sha256:0000000000000000000000000000000000000000000000000000000000000000"}
  - {name: f, image: linuxkit/dhcpcd:v1}
init: [linuxkit/getty:v1, alpine]
kernel: {cmdline: quiet}
`, []string{
			"linuxkit/getty:v1", "alpine",
			"linuxkit/dhcpcd:v1@sha256:0000000000000000000000000000000000000000000000000000000000000000",
			"linuxkit/dhcpcd:v1", "linuxkit/getty:v2", "alpine:3.20",
		}},
		{"kernel only", "kernel: {image: linuxkit/kernel:6.6.71}\n", []string{"linuxkit/kernel:6.6.71"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := ParseImage("refs.yml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := img.Refs(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Refs() = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestParseImageErrors: each YAML marks the line the error must name
// with "# <-".
func TestParseImageErrors(t *testing.T) {
	svc := func(opts string) string {
		return "services:\n  - name: sshd\n    image: linuxkit/sshd:v1\n" + opts
	}
	file := func(f string) string { return "files:\n  - path: etc/motd\n" + f }
	tests := []struct {
		name  string
		yaml  string
		field string
		msg   string
	}{
		{"unknown top-level field", "kernal: # <-\n  image: linuxkit/kernel:6.6.71\n", "kernal", `unknown field (did you mean "kernel"?)`},
		{"unknown top-level field, far", "kernel: {image: k:1}\noutput: [iso] # <-\n", "output", "expected one of: files, init, kernel"},
		{"unknown container option", svc("    capabilites: [CAP_SYS_ADMIN] # <-\n"), "services[0].capabilites", `did you mean "capabilities"?`},
		{"unknown option in a runtime-spec struct", svc("    resources:\n      memory:\n        limt: 100 # <-\n"), "services[0].resources.memory.limt", "unknown field"},
		{"unknown kernel field", "kernel:\n  image: linuxkit/kernel:6.6.71\n  initrd: x # <-\n", "kernel.initrd", "unknown field"},
		{"unsupported LinuxKit option", svc("    capabilities.add: [CAP_SYS_ADMIN] # <-\n"), "services[0].capabilities.add", "does not support yet"},
		{"key set twice", svc("    image: linuxkit/sshd:v2 # <-\n"), "services[0].image", "set twice (first at line 3)"},
		{"duplicate name across sections", "onboot:\n  - {name: dhcpcd, image: linuxkit/dhcpcd:v1}\nservices:\n  - name: dhcpcd # <-\n    image: linuxkit/dhcpcd:v1\n", "services[0].name", `duplicate name "dhcpcd" (also onboot[0])`},
		{"duplicate service name", "services:\n  - {name: getty, image: linuxkit/getty:v1}\n  - {name: getty, image: linuxkit/getty:v1} # <-\n", "services[1].name", "duplicate name"},
		{"invalid container name", "onboot:\n  - name: my service # <-\n    image: linuxkit/sysctl:v1\n", "onboot[0].name", "not a valid container name"},
		{"missing name", "services:\n  - image: linuxkit/getty:v1 # <-\n", "services[0].name", "is required"},
		{"missing image", "onshutdown:\n  - name: bye # <-\n", "onshutdown[0].image", "is required"},
		{"bad image ref", svc("")[:len("services:\n  - name: sshd\n")] + "    image: linuxkit/SSHD:v1 # <-\n", "services[0].image", "not a valid image reference"},
		{"bad init ref", "init:\n  - linuxkit/init:v1\n  - linuxkit/runc:bad:tag # <-\n", "init[1]", "not a valid image reference"},
		{"bad kernel ref", "kernel:\n  image: linuxkit/kernel:6.6:71 # <-\n", "kernel.image", "not a valid image reference"},
		{"init is not a list", "init: linuxkit/init:v1 # <-\n", "init", `expected a list of strings, got "linuxkit/init:v1"`},
		{"capabilities of the wrong type", svc("    capabilities: CAP_NET_ADMIN # <-\n"), "services[0].capabilities", "expected a list"},
		{"command of the wrong type", svc("    command: # <-\n      cmd: x\n"), "services[0].command", "expected a list of strings, got a mapping"},
		{"readonly not a boolean", svc("    readonly: yes # <-\n"), "services[0].readonly", `expected a boolean (true or false), got "yes"`},
		{"oomScoreAdj not an integer", svc("    oomScoreAdj: lots # <-\n"), "services[0].oomScoreAdj", "expected an integer"},
		{"uidMappings of the wrong type", svc("    uidMappings:\n      - containerID: root # <-\n"), "services[0].uidMappings[0].containerid", "expected a non-negative integer"},
		{"unknown capability", svc("    capabilities:\n      - CAP_NET_ADMIN\n      - CAP_FLY # <-\n"), "services[0].capabilities[1]", `"CAP_FLY" is not a capability`},
		{"all among others", svc("    capabilities: [CAP_NET_ADMIN, all] # <-\n"), "services[0].capabilities[1]", "must be the only entry"},
		{"env without =", svc("    env:\n      - DEBUG # <-\n"), "services[0].env[0]", "must be NAME=VALUE"},
		{"bind to an unknown volume", svc("    binds:\n      - cache:/var/cache # <-\n"), "services[0].binds[0]", "neither an absolute path nor a volume"},
		{"bind without destination", svc("    binds.add:\n      - /etc # <-\n"), "services[0].binds.add[0]", "SOURCE:/DESTINATION"},
		{"bad net", svc("    net: bridge # <-\n"), "services[0].net", "must be host, root, new, none"},
		{"bad rlimit", svc("    rlimits: [\"nofile,lots,10\"] # <-\n"), "services[0].rlimits[0]", "NAME,SOFT,HARD"},
		{"oomScoreAdj out of range", svc("    oomScoreAdj: 5000 # <-\n"), "services[0].oomScoreAdj", "outside -1000..1000"},
		{"relative cwd", svc("    cwd: app # <-\n"), "services[0].cwd", "absolute path"},
		{"uid of the wrong type", svc("    uid: [0] # <-\n"), "services[0].uid", "must be a number or a name"},
		{"bad mode", file("    contents: hi\n    mode: \"0999\" # <-\n"), "files[0].mode", "not an octal file mode"},
		{"mode not a string of digits", file("    contents: hi\n    mode: rw-r--r-- # <-\n"), "files[0].mode", "not an octal file mode"},
		{"contents and source", file("    contents: hi\n    source: motd.txt # <-\n"), "files[0].source", "sets both contents and source"},
		{"directory and symlink", file("    directory: true\n    symlink: /x # <-\n"), "files[0].symlink", "sets both directory and symlink"},
		{"file without contents", "files:\n  - path: etc/motd # <-\n    mode: \"0644\"\n", "files[0]", "needs exactly one of"},
		{"file without path", "files:\n  - contents: hi # <-\n", "files[0].path", "is required"},
		{"file path escapes", "files:\n  - path: ../etc/motd # <-\n    contents: hi\n", "files[0].path", "inside the root filesystem"},
		{"unknown metadata", file("    metadata: json # <-\n"), "files[0].metadata", "only metadata format is yaml"},
		{"optional without source", file("    contents: hi\n    optional: true # <-\n"), "files[0].optional", "only applies to files with source"},
		{"file uid of the wrong type", file("    contents: hi\n    uid: true # <-\n"), "files[0].uid", "must be a number or a name"},
		{"directory not a boolean", file("    directory: \"yes\" # <-\n"), "files[0].directory", "expected a boolean"},
		{"duplicate volume", "volumes:\n  - name: data\n  - name: data # <-\n", "volumes[1].name", `duplicate volume name "data"`},
		{"bad volume name", "volumes:\n  - name: Data # <-\n", "volumes[0].name", "not a valid volume name"},
		{"bad volume format", "volumes:\n  - name: data\n    format: ext4 # <-\n", "volumes[0].format", "must be oci or filesystem"},
		{"bad volume platform", "volumes:\n  - name: data\n    image: alpine:3.20\n    platforms:\n      - amd64 # <-\n", "volumes[0].platforms[0]", "OS/ARCH"},
		{"unknown trust field", "trust:\n  org: [linuxkit]\n  keys: [a.pub] # <-\n", "trust.keys", "expected one of: cosign, image, notation, org"},
		{"bad trust org", "trust:\n  org:\n    - linuxkit:latest # <-\n", "trust.org[0]", "not an organisation"},
		{"bad trust image", "trust:\n  image:\n    - linuxkit/* # <-\n", "trust.image[0]", "not an image name"},
		{"bad cosign pattern", "trust:\n  cosign:\n    - match: registry.example.com/team/** # <-\n      key: k.pub\n", "trust.cosign[0].match", "not a pattern"},
		{"cosign pattern with a tag", "trust:\n  cosign:\n    - match: linuxkit/init:v1 # <-\n      key: k.pub\n", "trust.cosign[0].match", "not a pattern"},
		{"cosign without key", "trust:\n  cosign:\n    - match: linuxkit/* # <-\n", "trust.cosign[0].key", "is required"},
		{"notation without truststore", "trust:\n  notation: # <-\n    policy: trustpolicy.json\n", "trust.notation.truststore", "is required"},
		{"top level not a mapping", "- linuxkit/init:v1 # <-\n", "", "expected a mapping, got a list"},
	}
	if len(tests) < 20 {
		t.Fatalf("only %d error cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := yamlMarkedLine(t, tt.yaml)
			_, err := ParseImage("bad.yml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error for:\n%s", tt.yaml)
			}
			var ye *ImageYAMLError
			if !errors.As(err, &ye) {
				t.Fatalf("error %q is %T, want *ImageYAMLError", err, err)
			}
			msg := err.Error()
			if want := fmt.Sprintf("bad.yml:%d: ", line); !strings.HasPrefix(msg, want) {
				t.Errorf("error %q does not start with %q", msg, want)
			}
			if tt.field != "" && !strings.Contains(msg, fmt.Sprintf(": %s: ", tt.field)) {
				t.Errorf("error %q does not name field %q", msg, tt.field)
			}
			if !strings.Contains(msg, tt.msg) {
				t.Errorf("error %q does not contain %q", msg, tt.msg)
			}
		})
	}
}

// yamlMarkedLine is the 1-based line marked "# <-".
func yamlMarkedLine(t *testing.T, y string) int {
	for i, l := range strings.Split(y, "\n") {
		if strings.HasSuffix(l, "# <-") {
			return i + 1
		}
	}
	t.Fatalf("no line marked # <- in:\n%s", y)
	return 0
}

func TestParseImageSyntaxErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"empty", "", "bad.yml: file is empty"},
		{"comments only", "# nothing\n", "bad.yml: file is empty"},
		{"unterminated flow", "services: [\n  {name: a\n", "bad.yml:1: did not find expected"},
		{"tab indentation", "kernel:\n\timage: x\n", "bad.yml:2: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseImage("bad.yml", []byte(tt.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestLoadImage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sshd.yml")
	if err := os.WriteFile(p, []byte(yamlExampleSSHD), 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := LoadImage(p)
	if err != nil || len(img.Services) != 2 {
		t.Fatalf("LoadImage = %v, %v", img, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(bad, []byte("services:\n  - {name: a, image: b, foo: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadImage(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":2: services[0].foo: ") {
		t.Errorf("LoadImage(bad) error = %v", err)
	}
	if _, err := LoadImage(filepath.Join(t.TempDir(), "missing.yml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadImage(missing) error = %v", err)
	}
}

func TestImageTrust(t *testing.T) {
	img, err := ParseImage("trust.yml", []byte(`trust:
  org: [linuxkit, registry.example.com:5000/team]
  image: [busybox, alpine:3.20]
  cosign:
    - {match: "registry.example.com/other/*", key: other.pub}
    - {match: docker.io/library/nginx, key: nginx.pub}
    - {match: "docker.io/library/*", key: library.pub}
`))
	if err != nil {
		t.Fatal(err)
	}
	tr := img.Trust
	tests := []struct {
		ref  string
		req  bool
		keys []string
	}{
		{"linuxkit/init:v1", true, nil},
		{"docker.io/linuxkit/init:v1", true, nil},
		{"linuxkitx/init:v1", false, nil},
		{"registry.example.com:5000/team/app:1", true, nil},
		{"registry.example.com:5000/team/sub/app:1", true, nil},
		{"registry.example.com/team/app:1", false, nil},
		{"busybox:1.36", true, []string{"library.pub"}},
		{"alpine:3.20", true, []string{"library.pub"}},
		{"nginx:1", true, []string{"nginx.pub", "library.pub"}},
		{"registry.example.com/other/deep/app:1", true, []string{"other.pub"}},
		{"quay.io/foo/bar:1", false, nil},
	}
	for _, tt := range tests {
		if got := tr.Requires(tt.ref); got != tt.req {
			t.Errorf("Requires(%q) = %v, want %v", tt.ref, got, tt.req)
		}
		if got := tr.CosignKeys(tt.ref); !reflect.DeepEqual(got, tt.keys) {
			t.Errorf("CosignKeys(%q) = %v, want %v", tt.ref, got, tt.keys)
		}
	}
	// trust.image with a tag only covers that tag.
	only := Trust{Image: []string{"alpine:3.20"}}
	if only.Requires("alpine:3.19") || !only.Requires("docker.io/library/alpine:3.20") {
		t.Error("trust.image alpine:3.20 must cover exactly that tag")
	}
}
