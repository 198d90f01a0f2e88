package apk

import (
	"strings"
	"testing"
)

// Index fields end up in file names and URLs: nothing that climbs out of
// a directory may parse.
func TestParseIndexRefusesHostileNames(t *testing.T) {
	for _, rec := range []string{
		"P:../../etc/evil\nV:1.0-r0\n",
		"P:a/b\nV:1.0-r0\n",
		"P:ok\nV:1.0/../../x\n",
		"P:ok\nV:1.0-r0\nA:../x86_64\n",
		"P:.hidden\nV:1.0-r0\n",
	} {
		if _, err := ParseIndex(strings.NewReader(rec)); err == nil {
			t.Errorf("accepted %q", rec)
		}
	}
	for _, good := range []string{"libstdc++", "py3-foo_bar", "R", "musl-dev", "_private"} {
		if !ValidName(good) {
			t.Errorf("refused the real name %q", good)
		}
	}
}
