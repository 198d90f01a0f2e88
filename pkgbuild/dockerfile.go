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
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	env, err := platformArgs(platform)
	if err != nil {
		return nil, err
	}
	lex := shell.NewLex(res.EscapeToken)
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

	stageNames := map[string]bool{}
	found := map[string]bool{}
	expand := func(word string) (string, error) {
		v, _, err := lex.ProcessWord(word, envGetter(env))
		return v, err
	}
	for i, st := range stages {
		base, err := expand(st.BaseName)
		if err != nil {
			return nil, fmt.Errorf("%s: FROM %s: %w", file, st.BaseName, err)
		}
		if base == "" {
			return nil, fmt.Errorf("%s: FROM %s expands to an empty image name for %s (is a build arg missing?)", file, st.BaseName, platform)
		}
		if !stageNames[strings.ToLower(base)] && base != "scratch" {
			found[base] = true
		}
		for _, c := range st.Commands {
			cp, ok := c.(*instructions.CopyCommand)
			if !ok || cp.From == "" {
				continue
			}
			from, err := expand(cp.From)
			if err != nil {
				return nil, fmt.Errorf("%s: COPY --from=%s: %w", file, cp.From, err)
			}
			if n, err := strconv.Atoi(from); err == nil && n >= 0 && n < i {
				continue
			}
			if !stageNames[strings.ToLower(from)] {
				found[from] = true
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
	return out, nil
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
