package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// InputsURI names the resolved dependency standing for the package's
// canonical input list (the list its content tag hashes).
const InputsURI = "lkpkg:inputs"

// Build describes how an image was built, for provenance.
type Build struct {
	BuilderID       string            // e.g. "https://github.com/lkpkg/lkpkg/pkgbuild@<BuildFormat>"
	BuildType       string            // e.g. "https://lkpkg.dev/build/v1"
	Package         string            // package directory (relative, e.g. "pkgs/dhcpcd")
	Tag             string            // the content tag
	Inputs          []byte            // the canonical input list the tag hashes (pkgbuild's Package.Inputs())
	BuildArgs       map[string]string // build args passed to the build
	Platforms       []string          // e.g. "linux/amd64"
	Bases           map[string]string // base image ref -> digest ("sha256:<hex>" or bare sha256 hex)
	SourceDateEpoch int64             // seconds since the Unix epoch
	Network         bool              // whether RUN steps had network access
}

// SLSA v1 provenance predicate. Field order is the output order.
type slsaProvenance struct {
	BuildDefinition slsaBuildDefinition `json:"buildDefinition"`
	RunDetails      slsaRunDetails      `json:"runDetails"`
}

type slsaBuildDefinition struct {
	BuildType            string                   `json:"buildType"`
	ExternalParameters   slsaExternalParameters   `json:"externalParameters"`
	InternalParameters   slsaInternalParameters   `json:"internalParameters"`
	ResolvedDependencies []slsaResourceDescriptor `json:"resolvedDependencies"`
}

type slsaExternalParameters struct {
	Package   string            `json:"package"`
	Tag       string            `json:"tag"`
	Platforms []string          `json:"platforms"`
	BuildArgs map[string]string `json:"buildArgs"` // encoding/json sorts map keys
	Network   bool              `json:"network"`
}

type slsaInternalParameters struct {
	SourceDateEpoch int64 `json:"sourceDateEpoch"`
}

type slsaResourceDescriptor struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

type slsaRunDetails struct {
	Builder  slsaBuilder  `json:"builder"`
	Metadata slsaMetadata `json:"metadata"`
}

type slsaBuilder struct {
	ID string `json:"id"`
}

type slsaMetadata struct {
	InvocationID string `json:"invocationId"`
	StartedOn    string `json:"startedOn"`
	FinishedOn   string `json:"finishedOn"`
}

// Provenance returns the SLSA v1 provenance predicate for b (the predicate
// object only; the signer wraps it in an in-toto statement with predicate
// type SLSAProvenanceType).
//
// buildDefinition holds b's build type, its external parameters (package,
// tag, platforms, build args, network), its internal parameters
// (sourceDateEpoch) and its resolved dependencies: each base image
// ({uri: ref, digest: {sha256: hex}}) and the canonical input list
// ({uri: InputsURI, digest: {sha256: sha256(b.Inputs)}}), sorted by uri.
// runDetails holds the builder id and metadata whose invocationId derives
// from the package and tag, and whose startedOn/finishedOn are
// SourceDateEpoch in RFC 3339.
//
// The output is deterministic: the same Build gives the same bytes, nil and
// empty slices/maps give the same output, and platforms are sorted.
func Provenance(b Build) ([]byte, error) {
	switch {
	case b.BuilderID == "":
		return nil, errors.New("provenance: empty builder id")
	case b.BuildType == "":
		return nil, errors.New("provenance: empty build type")
	case b.Package == "":
		return nil, errors.New("provenance: empty package")
	case b.Tag == "":
		return nil, errors.New("provenance: empty tag")
	case b.SourceDateEpoch < 0:
		return nil, fmt.Errorf("provenance: negative SOURCE_DATE_EPOCH %d", b.SourceDateEpoch)
	}

	inputs := sha256.Sum256(b.Inputs)
	deps := []slsaResourceDescriptor{{
		URI:    InputsURI,
		Digest: map[string]string{"sha256": hex.EncodeToString(inputs[:])},
	}}
	for ref, d := range b.Bases {
		if ref == "" {
			return nil, errors.New("provenance: base with empty ref")
		}
		alg, h, err := splitDigest(d)
		if err != nil {
			return nil, fmt.Errorf("provenance: base %s: %w", ref, err)
		}
		deps = append(deps, slsaResourceDescriptor{URI: ref, Digest: map[string]string{alg: h}})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].URI < deps[j].URI })

	platforms := slices.Clone(b.Platforms)
	if platforms == nil {
		platforms = []string{}
	}
	sort.Strings(platforms)
	args := map[string]string{}
	for k, v := range b.BuildArgs {
		args[k] = v
	}
	when := time.Unix(b.SourceDateEpoch, 0).UTC().Format(time.RFC3339)

	return marshal(slsaProvenance{
		BuildDefinition: slsaBuildDefinition{
			BuildType: b.BuildType,
			ExternalParameters: slsaExternalParameters{
				Package:   b.Package,
				Tag:       b.Tag,
				Platforms: platforms,
				BuildArgs: args,
				Network:   b.Network,
			},
			InternalParameters:   slsaInternalParameters{SourceDateEpoch: b.SourceDateEpoch},
			ResolvedDependencies: deps,
		},
		RunDetails: slsaRunDetails{
			Builder: slsaBuilder{ID: b.BuilderID},
			Metadata: slsaMetadata{
				InvocationID: InvocationID(b.Package, b.Tag),
				StartedOn:    when,
				FinishedOn:   when,
			},
		},
	})
}

// InvocationID is the provenance invocationId of building pkg at tag:
// derived from the content tag alone, so rebuilds agree.
func InvocationID(pkg, tag string) string {
	return "lkpkg:" + pkg + "@" + tag
}

// digestHexLen is the hex length of each digest algorithm Provenance accepts.
var digestHexLen = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

// splitDigest splits "alg:hex" (or a bare sha256 hex, or "ref@alg:hex")
// into SLSA DigestSet form: algorithm and lowercase hex without prefix.
func splitDigest(d string) (alg, h string, err error) {
	d = strings.TrimSpace(d)
	if i := strings.LastIndexByte(d, '@'); i >= 0 {
		d = d[i+1:]
	}
	alg, h, ok := strings.Cut(d, ":")
	if !ok {
		alg, h = "sha256", d
	}
	alg, h = strings.ToLower(alg), strings.ToLower(h)
	n, known := digestHexLen[alg]
	if !known {
		return "", "", fmt.Errorf("digest %q: unsupported algorithm %q", d, alg)
	}
	if _, err := hex.DecodeString(h); err != nil || len(h) != n {
		return "", "", fmt.Errorf("digest %q: want %d hex digits", d, n)
	}
	return alg, h, nil
}
