package apk

// Package is one APKINDEX entry. Field letters follow
// https://wiki.alpinelinux.org/wiki/Apk_spec.
type Package struct {
	Name          string   // P:
	Version       string   // V:
	Arch          string   // A:
	Checksum      string   // C: "Q1" + base64(sha1) of the control segment
	Description   string   // T:
	URL           string   // U:
	License       string   // L:
	Origin        string   // o:
	Maintainer    string   // m:
	Commit        string   // c:
	Size          int64    // S:
	InstalledSize int64    // I:
	BuildTime     int64    // t:
	Depends       []string // D: atoms, space separated in the index
	Provides      []string // p:
	InstallIf     []string // i:
	// ProviderPriority is k:; HasPriority tells an explicit k:0 from none.
	ProviderPriority int
	HasPriority      bool
}

// String returns "name-version", the form apk prints.
func (p Package) String() string { return p.Name + "-" + p.Version }
