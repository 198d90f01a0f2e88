package pkgbuild

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// externalImages returns the images a Dockerfile pulls in for one target
// platform: stage bases (FROM) and COPY --from sources that are not stages
// of the same Dockerfile, after ARG expansion exactly as BuildKit does it.
func externalImages(file string, dockerfile []byte, buildArgs map[string]string, platform string) ([]string, error) {
	refs, _, err := externalImagesByUse(file, dockerfile, buildArgs, platform)
	return refs, err
}

// isBuildPlatform reports whether a FROM --platform value names the
// builder's own platform.
func isBuildPlatform(p string) bool {
	return p == "$BUILDPLATFORM" || p == "${BUILDPLATFORM}"
}

// externalImagesByUse is externalImages that also tells which images are
// only used as `FROM --platform=$BUILDPLATFORM` stages: tools that run on
// the builder (a cross compiler), needed for the builder's arch only.
func externalImagesByUse(file string, dockerfile []byte, buildArgs map[string]string, platform string) ([]string, map[string]bool, error) {
	// A syntax directive makes BuildKit pull a frontend image: builds
	// never pull, and the tag would not cover it.
	if syntax, _, loc, ok := parser.DetectSyntax(dockerfile); ok {
		return nil, nil, fmt.Errorf("%s:%d: `# syntax=%s` is not supported: lkpkg builds use BuildKit's built-in Dockerfile frontend and never pull a frontend image", file, line(loc), syntax)
	}
	if _, ok := buildArgs["BUILDKIT_SYNTAX"]; ok {
		return nil, nil, fmt.Errorf("%s: build arg BUILDKIT_SYNTAX is not supported: it makes BuildKit pull a frontend image", file)
	}
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	lex := shell.NewLex(res.EscapeToken)
	env, err := globalArgs(file, metaArgs, buildArgs, platform, lex)
	if err != nil {
		return nil, nil, err
	}

	stageNames := map[string]bool{}
	found := map[string]bool{}
	targetUse := map[string]bool{}
	expandIn := func(e map[string]string) func(string) (string, error) {
		return func(word string) (string, error) {
			v, _, err := lex.ProcessWord(word, envGetter(e))
			return v, err
		}
	}
	for i, st := range stages {
		base, err := expandIn(env)(st.BaseName)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: FROM %s: %w", file, st.BaseName, err)
		}
		if base == "" {
			return nil, nil, fmt.Errorf("%s: FROM %s expands to an empty image name for %s (is a build arg missing?)", file, st.BaseName, platform)
		}
		if !stageNames[strings.ToLower(base)] && base != "scratch" {
			found[base] = true
			if !isBuildPlatform(st.Platform) {
				targetUse[base] = true
			}
		}
		// A stage sees the platform args and the ARGs it declares itself.
		stageEnv, _ := platformArgs(platform)
		expand := expandIn(stageEnv)
		for _, c := range st.Commands {
			var froms []string
			switch c := c.(type) {
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					switch v, ok := buildArgs[kv.Key]; {
					case ok:
						stageEnv[kv.Key] = v
					case kv.Value != nil:
						if stageEnv[kv.Key], err = expand(*kv.Value); err != nil {
							return nil, nil, fmt.Errorf("%s:%d: ARG %s: %w", file, line(c.Location()), kv.Key, err)
						}
					default:
						stageEnv[kv.Key] = env[kv.Key] // a global ARG redeclared
					}
				}
			case *instructions.CopyCommand:
				froms = append(froms, c.From)
			case *instructions.RunCommand:
				for _, m := range instructions.GetMounts(c) {
					froms = append(froms, m.From)
				}
			case *instructions.AddCommand:
				if err := checkAddSources(file, c, expand); err != nil {
					return nil, nil, err
				}
			}
			for _, f := range froms {
				if f == "" {
					continue
				}
				from, err := expand(f)
				if err != nil {
					return nil, nil, fmt.Errorf("%s:%d: --from=%s: %w", file, line(c.Location()), f, err)
				}
				if n, err := strconv.Atoi(from); err == nil && n >= 0 && n < i {
					continue
				}
				if !stageNames[strings.ToLower(from)] {
					found[from] = true
					targetUse[from] = true
				}
			}
		}
		if st.Name != "" {
			stageNames[strings.ToLower(st.Name)] = true
		}
	}
	out := make([]string, 0, len(found))
	for ref := range found {
		out = append(out, ref)
	}
	sort.Strings(out)
	buildOnly := map[string]bool{}
	for ref := range found {
		if !targetUse[ref] {
			buildOnly[ref] = true
		}
	}
	return out, buildOnly, nil
}

// globalArgs is the environment FROM lines are expanded in: the platform
// args, then the ARGs before the first FROM, in order, each taking its
// build arg if given, else its default expanded in what came before.
func globalArgs(file string, metaArgs []instructions.ArgCommand, buildArgs map[string]string, platform string, lex *shell.Lex) (map[string]string, error) {
	env, err := platformArgs(platform)
	if err != nil {
		return nil, err
	}
	for _, cmd := range metaArgs {
		for _, kv := range cmd.Args {
			if v, ok := buildArgs[kv.Key]; ok {
				env[kv.Key] = v
				continue
			}
			if kv.Value == nil {
				if _, ok := env[kv.Key]; !ok {
					env[kv.Key] = ""
				}
				continue
			}
			v, _, err := lex.ProcessWord(*kv.Value, envGetter(env))
			if err != nil {
				return nil, fmt.Errorf("%s: ARG %s: %w", file, kv.Key, err)
			}
			env[kv.Key] = v
		}
	}
	return env, nil
}

// checkAddSources refuses ADD of a URL or git repository without a
// --checksum: its content would be fetched at build time, outside the tag.
func checkAddSources(file string, c *instructions.AddCommand, expand func(string) (string, error)) error {
	if c.Checksum != "" {
		return nil
	}
	for _, src := range c.SourcePaths {
		v, err := expand(src)
		if err != nil {
			return fmt.Errorf("%s:%d: ADD %s: %w", file, line(c.Location()), src, err)
		}
		if strings.Contains(v, "://") || strings.HasPrefix(v, "git@") {
			return fmt.Errorf("%s:%d: ADD %s fetches content the tag cannot cover: pin it with --checksum=sha256:..., or bring it in as an extra source", file, line(c.Location()), v)
		}
	}
	return nil
}

func line(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}

// platformArgs are BuildKit's automatic platform ARGs for a target; the
// build platform is where buildkitd runs, which for tag purposes is
// irrelevant, so it is fixed to the target to keep tags machine-independent.
func platformArgs(platform string) (map[string]string, error) {
	p, err := platforms.Parse(platform)
	if err != nil {
		return nil, fmt.Errorf("platform %q: %w", platform, err)
	}
	p = platforms.Normalize(p)
	s := platforms.Format(p)
	return map[string]string{
		"TARGETPLATFORM": s, "TARGETOS": p.OS, "TARGETARCH": p.Architecture, "TARGETVARIANT": p.Variant,
		"BUILDPLATFORM": s, "BUILDOS": p.OS, "BUILDARCH": p.Architecture, "BUILDVARIANT": p.Variant,
	}, nil
}

type envGetter map[string]string

func (e envGetter) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }

func (e envGetter) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
