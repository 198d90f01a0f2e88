package attest

import "testing"

func TestPredicateTypeFor(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"spdxjson", SPDXPredicateType},
		{"spdx", SPDXPredicateType},
		{"slsaprovenance1", SLSAProvenanceType},
		{"slsaprovenance", SLSAProvenanceType},
		{"https://example.com/custom", "https://example.com/custom"},
	} {
		if got := PredicateTypeFor(c.in); got != c.want {
			t.Errorf("PredicateTypeFor(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
