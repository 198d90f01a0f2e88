package deb

import (
	"strings"
	"testing"
	"time"
)

func TestParseReleaseTime(t *testing.T) {
	want := time.Date(2026, 7, 11, 10, 16, 37, 0, time.UTC)
	for _, s := range []string{
		"Sat, 11 Jul 2026 10:16:37 UTC",
		"Sat, 11 Jul 2026 10:16:37 GMT",
		"Sat, 11 Jul 2026 10:16:37 +0000",
		"Sat, 11 Jul 2026 12:16:37 +0200",
		"Sat, 11 Jul 2026 10:16:37 +0000 (UTC)",
	} {
		got, err := parseReleaseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseReleaseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	got, err := parseReleaseTime("Mon, 2 Feb 2026 01:02:03 UTC")
	if err != nil || got.Day() != 2 {
		t.Errorf("single-digit day: %v %v", got, err)
	}
	for _, s := range []string{"", "2026-07-11T10:16:37Z", "Sat, 11 Jul 2026 10:16:37 CEST", "Sat, 11 Jul 2026 10:16:37"} {
		if _, err := parseReleaseTime(s); err == nil {
			t.Errorf("parseReleaseTime(%q) accepted", s)
		}
	}
}

func TestParseRelease(t *testing.T) {
	h := strings.Repeat("ab", 32)
	good := "Origin: Debian\nSuite: oldstable\nCodename: bookworm\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n" +
		"Acquire-By-Hash: yes\nArchitectures: all amd64 arm64\nComponents: main contrib\n" +
		"MD5Sum:\n 0ed6d4c8891eb86358b94bb35d9e4da4  1484322 contrib/Contents-all\n" +
		"SHA256:\n " + h + " 8790396 main/binary-amd64/Packages.xz\n " + h + "  50060337 main/binary-amd64/Packages\n"
	rel, err := parseRelease(good)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Codename != "bookworm" || rel.Suite != "oldstable" || !rel.AcquireByHash ||
		len(rel.Architectures) != 3 || len(rel.Components) != 2 || len(rel.Files) != 2 ||
		rel.Files["main/binary-amd64/Packages"] != (FileHash{h, 50060337}) || !rel.ValidUntil.IsZero() {
		t.Fatalf("parsed %+v", rel)
	}
	tests := []struct{ name, text, frag string }{
		{"no SHA256", strings.Split(good, "SHA256:")[0], "no SHA256"},
		{"no Date", strings.Replace(good, "Date:", "X-Date:", 1), "no Date"},
		{"no suite", strings.NewReplacer("Suite:", "X-Suite:", "Codename:", "X-Codename:").Replace(good), "neither Suite nor Codename"},
		{"two paragraphs", good + "\nSuite: evil\n", "more than one paragraph"},
		{"hostile path", good + " " + h + " 1 ../../etc/passwd\n", `".."`},
		{"absolute path", good + " " + h + " 1 /etc/passwd\n", "absolute"},
		{"duplicate path", good + " " + h + " 1 main/binary-amd64/Packages\n", "listed twice"},
		{"short line", good + " " + h + " main/x\n", "malformed line"},
		{"bad hash", good + " xyz 1 main/x\n", "sha256"},
		{"bad size", good + " " + h + " -1 main/x\n", "invalid size"},
		{"bad date", strings.Replace(good, "10:16:37 UTC", "10:16:37 EST", 1), "zone must be"},
		{"bad valid-until", good + "Valid-Until: tomorrow\n", "invalid date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseRelease(tc.text)
			wantErr(t, err, tc.frag)
		})
	}
}
