package assemble

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Volumes through the whole build: a filesystem volume and an OCI-layout
// volume from pinned cached images, bound by a service.
func TestAssembleVolumes(t *testing.T) {
	c, _ := asmCache(t, asmPrefix)
	extra := `volumes:
  - name: data
    image: ` + asmPrefix + `init:v1
  - name: layout
    image: ` + asmPrefix + `svc:v1
    format: oci
    readonly: true
`
	yml := strings.Replace(asmYAML(asmPrefix, extra), `binds.add: ["/var/log:/var/log"]`, `binds.add: ["/var/log:/var/log", "data:/data", "layout:/layout:ro"]`, 1)
	yamlPath, out := asmSetup(t, yml)
	if _, err := Build(context.Background(), yamlPath, Options{Cache: c, OutputDir: out, Formats: []string{FormatTar}}); err != nil {
		t.Fatal(err)
	}
	m, _ := asmReadTar(t, filepath.Join(out, "image.tar"))
	for _, name := range []string{
		"containers/volumes/data/lower/bin/init",
		"containers/volumes/data/tmp",
		"containers/volumes/data/merged",
		"containers/volumes/layout/lower/oci-layout",
		"containers/volumes/layout/lower/index.json",
		"containers/volumes/layout/merged",
	} {
		if _, ok := m[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	if _, ok := m["containers/volumes/layout/tmp"]; ok {
		t.Errorf("a read-only volume has a tmp dir")
	}
	cfg := m["containers/services/getty/config.json"].body
	for _, want := range []string{`"/containers/volumes/data/merged"`, `"/containers/volumes/layout/merged"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config.json lacks %s", want)
		}
	}
}
