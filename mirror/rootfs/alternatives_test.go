package rootfs

import (
	"reflect"
	"strings"
	"testing"
)

func TestShellCommands(t *testing.T) {
	script := "#!/bin/sh\nset -e\nfoo a\\\n  b 'c d' \"e f\" # comment\nif [ x ]; then bar; fi\nx=1 && y | z\n"
	got := shellCommands([]byte(script))
	want := [][]string{{"set", "-e"}, {"foo", "a", "b", "c d", "e f"}, {"if", "[", "x", "]"}, {"then", "bar"}, {"fi"}, {"x=1"}, {"y"}, {"z"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestScanAlternatives(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		want     []alternative
		warnings []string
		err      string // a name update-alternatives refuses fails the scan
	}{{
		name: "mawk (dh_installalternatives)",
		script: `#!/bin/sh
set -e
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ]; then
        update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \
            --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz \
            --slave /usr/bin/nawk nawk /usr/bin/mawk
fi
`,
		want: []alternative{{link: "/usr/bin/awk", name: "awk", path: "/usr/bin/mawk", priority: 5, pkg: "p",
			slaves: []slave{{"/usr/share/man/man1/awk.1.gz", "awk.1.gz", "/usr/share/man/man1/mawk.1.gz"}, {"/usr/bin/nawk", "nawk", "/usr/bin/mawk"}}}},
	}, {
		name: "gcc: a continuation into a comment",
		script: `update-alternatives --quiet \
    --install /usr/bin/cc cc /usr/bin/gcc 20 \
    #--slave /usr/share/man/man1/cc.1.gz cc.1.gz /usr/share/man/man1/gcc.1.gz

update-alternatives --quiet --install /lib/cpp cpp /usr/bin/cpp 10 >/dev/null 2>&1 || true
`,
		want: []alternative{
			{link: "/usr/bin/cc", name: "cc", path: "/usr/bin/gcc", priority: 20, pkg: "p"},
			{link: "/lib/cpp", name: "cpp", path: "/usr/bin/cpp", priority: 10, pkg: "p"},
		},
	}, {
		name: "other actions and mentions are ignored",
		script: `update-alternatives --remove awk /usr/bin/$old
command -v update-alternatives >/dev/null
echo "run update-alternatives --install to fix"
`,
	}, {
		name:     "variables are not expanded",
		script:   "for p in a b; do update-alternatives --install /usr/bin/$p $p /usr/bin/$p-1 10; done\n",
		warnings: []string{"unexpanded shell word"},
	}, {
		name:     "bad priority",
		script:   "update-alternatives --install /usr/bin/x x /usr/bin/y high\n",
		warnings: []string{`bad priority "high"`},
	}, {
		name:     "relative path",
		script:   "update-alternatives --install /usr/bin/x x y 1\n",
		warnings: []string{`"y" is not an absolute path`},
	}, {
		name:     "unknown option",
		script:   "update-alternatives --altdir /x --install /usr/bin/x x /usr/bin/y 1\n",
		warnings: []string{`"--altdir"`},
	}, {
		name:   "slave name with dot-dot",
		script: "update-alternatives --install /usr/bin/x x /usr/bin/y 1 --slave /usr/bin/z ../../z /usr/bin/w\n",
		err:    `refusing alternative name "../../z"`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := scanAlternatives([]byte(tt.script), "p")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %q", warnings, tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(warnings[i], w) || !strings.HasPrefix(warnings[i], "p postinst: ") {
					t.Errorf("warning %q, want %q", warnings[i], w)
				}
			}
		})
	}
}

// An alternative's name becomes a file name below /etc/alternatives and
// /var/lib/dpkg/alternatives: the scan refuses any other name.
func TestScanAlternativesRefusesNames(t *testing.T) {
	for _, tt := range []struct {
		word string // the name as the script spells it
		err  string
	}{
		{"../../../../tmp/pwned", `refusing alternative name "../../../../tmp/pwned": it contains '/'`},
		{"bin/x", `refusing alternative name "bin/x"`},
		{"..", `refusing alternative name ".."`},
		{".", `refusing alternative name "."`},
		{"''", `refusing alternative name "": it is empty`},
		{"'a b'", `refusing alternative name "a b": it contains blanks`},
		{"'a\tb'", `refusing alternative name "a\tb"`},
	} {
		t.Run(tt.word, func(t *testing.T) {
			script := "update-alternatives --install /usr/bin/x " + tt.word + " /usr/bin/y 1\n"
			if _, _, err := scanAlternatives([]byte(script), "p"); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestAlternativesDB(t *testing.T) {
	got := string(alternativesDB("/usr/bin/awk", []alternative{
		{path: "/usr/bin/gawk", priority: 10, slaves: []slave{{"/usr/bin/nawk", "nawk", "/usr/bin/gawk"}}},
		{path: "/usr/bin/mawk", priority: 5, slaves: []slave{{"/usr/share/man/man1/awk.1.gz", "awk.1.gz", "/m.gz"}, {"/usr/bin/nawk", "nawk", "/usr/bin/mawk"}}},
	}))
	want := "auto\n/usr/bin/awk\nawk.1.gz\n/usr/share/man/man1/awk.1.gz\nnawk\n/usr/bin/nawk\n\n" +
		"/usr/bin/gawk\n10\n\n/usr/bin/gawk\n" +
		"/usr/bin/mawk\n5\n/m.gz\n/usr/bin/mawk\n\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
