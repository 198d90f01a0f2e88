package efidisk

import (
	"strings"
	"testing"
)

func TestEFILoaderEntry(t *testing.T) {
	// Every entry has these lines; a command line adds an options line.
	const entry = "title LinuxKit (lkpkg)\nlinux /kernel\ninitrd /initrd.img\n"
	for in, options := range map[string]string{
		"":                      "",
		" \n":                   "",
		"console=ttyS0\n":       "options console=ttyS0\n",
		"a=\"x  y\"\r\nb=1\n\n": "options a=\"x  y\" b=1\n",
	} {
		want := entry + options
		got, err := LoaderEntry([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("%q: got %q, %v, want %q", in, got, err, want)
		}
	}
}

// sdbootEntry models how systemd-boot reads a type #1 loader entry
// (src/boot/boot.c: line_get_key_value, boot_entry_add_type1): the content
// ends at a NUL; lines end at \n or \r; spaces and tabs around a line go;
// lines starting with # are comments; the key ends at the first space or
// tab, and the value starts after the blanks that follow; a value starting
// with `"` on a line ending with `"` loses that pair. It returns every
// value of each key, in order.
func sdbootEntry(content []byte) map[string][]string {
	s := string(content)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	out := map[string][]string{}
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.Trim(line, " \t")
		if line == "" || line[0] == '#' {
			continue
		}
		k := strings.IndexAny(line, " \t")
		if k < 0 {
			continue
		}
		key, value := line[:k], strings.TrimLeft(line[k:], " \t")
		if strings.HasPrefix(value, `"`) && strings.HasSuffix(line, `"`) {
			if len(value) == 1 {
				value = ""
			} else {
				value = value[1 : len(value)-1]
			}
		}
		out[key] = append(out[key], value)
	}
	return out
}

// sdbootOptions is the command line systemd-boot gives the kernel: the
// options lines joined with a space.
func sdbootOptions(content []byte) string {
	return strings.Join(sdbootEntry(content)["options"], " ")
}

// The loader entry gives the kernel the command line as it is, quotes
// included, under systemd-boot's reading of it.
func TestEFILoaderEntryKeepsQuotes(t *testing.T) {
	for _, cmdline := range []string{
		"console=ttyS0",
		`"a=1" b="x y"`,
		`"a=1"`,
		`"a b"`,
		`"a  b"`,
		`"a" "b"`,
		`"x"  y"`,
		`"`,
		`""`,
		`"""`,
		`"a=1 b" c="x y" d`,
		`a="x y"`,
		`"init=/bin/sh" quiet`,
		`quiet "x=1"`,
		"\"a\tb c\"",
		"\"a\t\"b\" c\"",
		"\"a=1\" #b \"c\"",
		`"É=ü" "ß"`,
	} {
		entry, err := LoaderEntry([]byte(cmdline))
		if err != nil {
			t.Errorf("%q: %v", cmdline, err)
			continue
		}
		if got := sdbootOptions(entry); got != cmdline {
			t.Errorf("%q: systemd-boot boots with %q\n%s", cmdline, got, entry)
		}
		if e := sdbootEntry(entry); len(e["linux"]) != 1 || e["linux"][0] != "/kernel" || len(e["initrd"]) != 1 || e["initrd"][0] != "/initrd.img" {
			t.Errorf("%q: entry %q", cmdline, e)
		}
	}
	// A command line that starts and ends with a quote and has a space
	// to split at is split there, onto two options lines: neither is
	// unquoted, and they join back to the command line byte for byte.
	entry, _ := LoaderEntry([]byte(`"a=1" b="x y"`))
	if want := "options \"a=1\" b=\"x\noptions y\"\n"; !strings.HasSuffix(string(entry), want) {
		t.Errorf("entry %q, want it to end with %q", entry, want)
	}
	// Without one, one more pair of quotes.
	entry, _ = LoaderEntry([]byte(`"a=1"`))
	if want := "options \"\"a=1\"\"\n"; !strings.HasSuffix(string(entry), want) {
		t.Errorf("entry %q, want it to end with %q", entry, want)
	}
}

// NUL and control characters other than blanks and line breaks cannot be in
// the loader entry: they are refused, with a clear error, and the build
// writes nothing.
func TestEFILoaderEntryRefusesControls(t *testing.T) {
	for _, cmdline := range []string{"a\x00b", "\x00", "console=ttyS0\x1b[2J", "a\x7f", "a\vb", "a\fb", "a\u0085b", "quiet\x00init=/bin/sh"} {
		entry, err := LoaderEntry([]byte(cmdline))
		if err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%q: err = %v, entry %q", cmdline, err, entry)
		}
	}
	// Tabs stay; line breaks become spaces.
	if entry, err := LoaderEntry([]byte("a\tb\r\nc\n")); err != nil || sdbootOptions(entry) != "a\tb c" {
		t.Errorf("tab and line breaks: %q, %v", entry, err)
	}

}

// loader.conf turns the console editor of the command line off.
func TestEFILoaderConfNoEditor(t *testing.T) {
	conf := sdbootEntry([]byte(LoaderConf))
	if e := conf["editor"]; len(e) != 1 || e[0] != "no" {
		t.Errorf("loader.conf %q: editor %q", LoaderConf, e)
	}
	if d := conf["default"]; len(d) != 1 || d[0] != EntryName {
		t.Errorf("loader.conf %q: default %q", LoaderConf, d)
	}
}
