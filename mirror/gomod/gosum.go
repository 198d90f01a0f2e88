package gomod

import (
	"bytes"
	"slices"
)

// GoSum is go.sum content for mods: a module's zip line (unless it is
// go.mod-only) and its /go.mod line, sorted and without duplicates. A
// build whose go.sum has these lines checks every file it reads from the
// proxy tree, even with GOSUMDB=off.
func GoSum(mods []Module) []byte {
	var lines []string
	for _, m := range mods {
		if m.Sum != "" {
			lines = append(lines, m.Path+" "+m.Version+" "+m.Sum+"\n")
		}
		lines = append(lines, m.Path+" "+m.Version+"/go.mod "+m.GoModSum+"\n")
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
	}
	return b.Bytes()
}
