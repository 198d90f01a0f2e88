package deb

import (
	"fmt"
	"strings"
	"time"

	"github.com/lkpkg/lkpkg/mirror/debfile"
)

// Release is a verified InRelease.
type Release struct {
	Origin, Label, Suite, Codename string
	Version                        string
	Date                           time.Time
	ValidUntil                     time.Time // zero when absent
	Architectures, Components      []string
	// AcquireByHash is set when the archive also serves index files under
	// by-hash/SHA256/<digest>, which Client prefers: those paths never
	// change content, so a mirror update between fetching InRelease and
	// the index cannot produce a spurious hash mismatch.
	AcquireByHash bool
	// Files maps paths relative to dists/SUITE ("main/binary-amd64/Packages.xz")
	// to their SHA256 and size.
	Files map[string]FileHash
	// SignedBy is the fingerprint (upper-case hex) of the key, or subkey,
	// that made the accepted signature; SignedByPrimary is the fingerprint
	// of its primary key, the one Keyring.Fingerprints lists.
	SignedBy, SignedByPrimary string
	// SHA256 is the hex SHA256 of the InRelease bytes.
	SHA256 string
	// Dist is the directory under dists/ the InRelease was fetched from
	// (Client.Release's suite argument). VerifyInRelease leaves it empty;
	// Client.Packages then falls back to Codename.
	Dist string
}

// FileHash pins one file listed in a Release.
type FileHash struct {
	SHA256 string
	Size   int64
}

// parseRelease parses the (already verified) text of an InRelease.
func parseRelease(text string) (*Release, error) {
	rel := &Release{Files: map[string]FileHash{}}
	var haveDate, haveSHA bool
	sc := debfile.NewScanner(text)
	for first := true; ; first = false {
		ok, err := sc.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if sc.NewStanza && !first {
			return nil, fmt.Errorf("line %d: more than one paragraph", sc.Line)
		}
		v := sc.Value
		switch strings.ToLower(sc.Name) {
		case "origin":
			rel.Origin = v
		case "label":
			rel.Label = v
		case "suite":
			rel.Suite = v
		case "codename":
			rel.Codename = v
		case "version":
			rel.Version = v
		case "date":
			rel.Date, err = parseReleaseTime(v)
			haveDate = true
		case "valid-until":
			rel.ValidUntil, err = parseReleaseTime(v)
		case "architectures":
			rel.Architectures = strings.Fields(v)
		case "components":
			rel.Components = strings.Fields(v)
		case "acquire-by-hash":
			rel.AcquireByHash = v == "yes"
		case "sha256":
			haveSHA = true
			err = parseFileHashes(v, rel.Files)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", sc.Line, sc.Name, err)
		}
	}
	switch {
	case rel.Suite == "" && rel.Codename == "":
		return nil, fmt.Errorf("neither Suite nor Codename")
	case !haveDate:
		return nil, fmt.Errorf("no Date field")
	case !haveSHA:
		// MD5Sum and SHA1 are broken; apt refuses such a Release too.
		return nil, fmt.Errorf("no SHA256 field")
	}
	return rel, nil
}

// parseFileHashes parses the " <sha256> <size> <path>" lines of SHA256.
func parseFileHashes(v string, files map[string]FileHash) error {
	for _, line := range strings.Split(v, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return fmt.Errorf("malformed line %q: want \"sha256 size path\"", debfile.Clip(strings.TrimSpace(line)))
		}
		if err := validateSHA256(f[0]); err != nil {
			return err
		}
		size, err := parseSize(f[1])
		if err != nil {
			return err
		}
		if err := validateRelPath(f[2]); err != nil {
			return err
		}
		if _, dup := files[f[2]]; dup {
			return fmt.Errorf("%s listed twice", f[2])
		}
		files[f[2]] = FileHash{SHA256: f[0], Size: size}
	}
	return nil
}

// parseReleaseTime parses the RFC 2822 dates of Release files. Zone
// abbreviations other than UTC/GMT are refused: Go would silently read an
// unknown one as UTC, shifting the Valid-Until window.
func parseReleaseTime(v string) (time.Time, error) {
	for _, layout := range []string{
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04:05 -0700 (MST)",
		"Mon, 2 Jan 2006 15:04:05 MST",
	} {
		t, err := time.Parse(layout, v)
		if err != nil {
			continue
		}
		if strings.HasSuffix(layout, " MST") {
			if zone, _ := t.Zone(); zone != "UTC" && zone != "GMT" {
				return time.Time{}, fmt.Errorf("date %q: zone must be UTC, GMT or numeric", v)
			}
		}
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("invalid date %q", v)
}
