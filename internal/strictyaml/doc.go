// Package strictyaml is the one YAML decoder of lkpkg (build.yml,
// mirror.yml, mirror.lock and image YAML). It reads at most MaxBytes,
// refuses alias and << merge expansion past MaxAliasNodes before anything is
// decoded (a merge-key bomb fails in microseconds instead of running for
// minutes), refuses unknown fields, keys set twice and values of the wrong
// kind, and reports every problem in one shape:
//
//	file:line: field.path: what was expected
//
// Config types that implement Validator are validated after decoding with
// a Locator that turns a field path back into a line.
package strictyaml
