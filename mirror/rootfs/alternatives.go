package rootfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// alternative is one `update-alternatives --install LINK NAME PATH
// PRIORITY [--slave LINK NAME PATH]...` found in a postinst.
type alternative struct {
	link, name, path string
	priority         int
	slaves           []slave
	pkg              string
}

type slave struct{ link, name, path string }

// scanAlternatives finds the update-alternatives --install calls of a
// maintainer script. It reads the script as shell words, not by running
// it: calls are taken wherever they appear (the usual ones sit under
// `configure` cases or in helper functions), and a call with unexpanded
// variables or unsupported options is skipped with a warning.
//
// An alternative name that update-alternatives itself would refuse (one
// with "/" or blanks, ".", "..", empty) is an error, not a warning: the
// name becomes a file name under /etc/alternatives and
// /var/lib/dpkg/alternatives, and a package that ships one is broken or
// hostile.
func scanAlternatives(script []byte, pkgName string) ([]alternative, []string, error) {
	var alts []alternative
	var warnings []string
	for _, cmd := range shellCommands(script) {
		i := 0
		for i < len(cmd) && path.Base(cmd[i]) != "update-alternatives" {
			i++
		}
		if i == len(cmd) {
			continue
		}
		a, ok, err := parseAlternativesCall(cmd[i+1:])
		var bad badNameError
		if errors.As(err, &bad) {
			return nil, nil, fmt.Errorf("postinst: %q: %w", strings.Join(cmd[i:], " "), err)
		}
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s postinst: skipped %q: %v", pkgName, strings.Join(cmd[i:], " "), err))
			continue
		}
		if ok {
			a.pkg = pkgName
			alts = append(alts, a)
		}
	}
	return alts, warnings, nil
}

// badNameError is an alternative name update-alternatives would refuse.
type badNameError struct{ name, why string }

func (e badNameError) Error() string {
	return fmt.Sprintf("refusing alternative name %q: %s", e.name, e.why)
}

// checkAlternativeName applies update-alternatives' rules for a name
// (master or slave): not empty, not "." or "..", no "/" and no blanks.
// It is a file name in /etc/alternatives and /var/lib/dpkg/alternatives.
func checkAlternativeName(name string) error {
	switch {
	case name == "":
		return badNameError{name, "it is empty"}
	case name == "." || name == "..":
		return badNameError{name, "it is not a file name"}
	case strings.ContainsRune(name, '/'):
		return badNameError{name, "it contains '/'"}
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return badNameError{name, "it contains blanks or control characters"}
	}
	return nil
}

// parseAlternativesCall parses update-alternatives arguments; ok is false
// for calls without --install (--remove, --set...), which a fresh install
// does not need.
func parseAlternativesCall(args []string) (a alternative, ok bool, err error) {
	if !slices.Contains(args, "--install") {
		return a, false, nil
	}
	if i := slices.IndexFunc(args, isRedirection); i >= 0 {
		args = args[:i]
	}
	for _, w := range args {
		if strings.ContainsAny(w, "$`") {
			return a, false, fmt.Errorf("unexpanded shell word %q", w)
		}
	}
	for i := 0; i < len(args); i++ {
		w := args[i]
		switch {
		case w == "--quiet", w == "--verbose", w == "--debug", w == "--force", w == "--skip-auto":
		case w == "--install" && !ok && i+4 < len(args):
			prio, perr := strconv.Atoi(args[i+4])
			if perr != nil {
				return a, false, fmt.Errorf("bad priority %q", args[i+4])
			}
			a.link, a.name, a.path, a.priority = args[i+1], args[i+2], args[i+3], prio
			ok = true
			i += 4
		case w == "--slave" && ok && i+3 < len(args):
			a.slaves = append(a.slaves, slave{args[i+1], args[i+2], args[i+3]})
			i += 3
		default:
			return a, false, fmt.Errorf("unsupported or misplaced argument %q", w)
		}
	}
	if ok {
		for _, n := range append([]string{a.name}, slaveNames(a.slaves)...) {
			if err := checkAlternativeName(n); err != nil {
				return a, false, err
			}
		}
	}
	for _, p := range append([]string{a.link, a.path}, slavePaths(a.slaves)...) {
		if !path.IsAbs(p) {
			return a, false, fmt.Errorf("%q is not an absolute path", p)
		}
	}
	return a, true, nil
}

func slaveNames(s []slave) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.name)
	}
	return out
}

func slavePaths(s []slave) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.link, x.path)
	}
	return out
}

// applyAlternatives does what update-alternatives --install does in auto
// mode, for every name at once: the highest priority wins (ties go to the
// smallest path, where the real tool would keep the first installed),
// and its master and slave links are made through /etc/alternatives. A
// choice whose path is not in the root is skipped, as the real tool
// refuses it; a slave whose path is missing gets no link, as with the
// real tool. It also writes the tool's database, so update-alternatives
// run later in the image knows the choices.
func (t *tree) applyAlternatives(alts []alternative) (map[string]string, []string, error) {
	byName := map[string][]alternative{}
	var warnings []string
	for _, a := range alts {
		if !t.exists(a.path) {
			warnings = append(warnings, fmt.Sprintf("%s: alternative %s -> %s skipped: %s is not installed", a.pkg, a.name, a.path, a.path))
			continue
		}
		byName[a.name] = append(byName[a.name], a)
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	links := map[string]string{}
	for _, name := range names {
		choices := byName[name]
		sort.Slice(choices, func(i, j int) bool { return choices[i].path < choices[j].path })
		best := choices[0]
		for _, c := range choices[1:] {
			if c.priority > best.priority {
				best = c
			}
		}
		if t.link(best, best.link, name, best.path, &warnings) {
			links[best.link] = best.path
		}
		for _, s := range best.slaves {
			if t.exists(s.path) && t.link(best, s.link, s.name, s.path, &warnings) {
				links[s.link] = s.path
			}
		}
		if err := t.putFile(dpkgDir+"/alternatives/"+name, 0o644, alternativesDB(best.link, choices)); err != nil {
			return nil, nil, err
		}
	}
	return links, warnings, nil
}

// link makes LINK -> /etc/alternatives/NAME -> target. Like the real
// tool, it replaces a symlink at LINK but never a file or directory.
func (t *tree) link(by alternative, link, name, target string, warnings *[]string) bool {
	p, ok := t.resolveParent(link)
	if !ok {
		*warnings = append(*warnings, fmt.Sprintf("%s: alternative %s: no directory for %s", by.pkg, name, link))
		return false
	}
	if old, ok := t.nodes[p]; ok && old.typ != tar.TypeSymlink {
		*warnings = append(*warnings, fmt.Sprintf("%s: alternative %s: not replacing %s with a link (%s)", by.pkg, name, link, describe(old)))
		return false
	}
	delete(t.nodes, p)
	t.put(symlink(p, "/etc/alternatives/"+name))
	delete(t.nodes, "etc/alternatives/"+name)
	t.put(symlink("etc/alternatives/"+name, target))
	return true
}

// exists reports whether an absolute path leads to an entry of the tree,
// as stat(2) would inside the root.
func (t *tree) exists(abs string) bool {
	_, ok := t.resolve(abs)
	return ok
}

// alternativesDB renders /var/lib/dpkg/alternatives/NAME as
// update-alternatives writes it: mode, master link, the slaves' names and
// links, then each choice's path, priority and slave paths.
func alternativesDB(master string, choices []alternative) []byte {
	slaveLinks := map[string]string{}
	for _, c := range choices {
		for _, s := range c.slaves {
			if _, ok := slaveLinks[s.name]; !ok {
				slaveLinks[s.name] = s.link
			}
		}
	}
	slaveNames := make([]string, 0, len(slaveLinks))
	for n := range slaveLinks {
		slaveNames = append(slaveNames, n)
	}
	sort.Strings(slaveNames)
	var b bytes.Buffer
	fmt.Fprintf(&b, "auto\n%s\n", master)
	for _, n := range slaveNames {
		fmt.Fprintf(&b, "%s\n%s\n", n, slaveLinks[n])
	}
	b.WriteString("\n")
	for _, c := range choices {
		fmt.Fprintf(&b, "%s\n%d\n", c.path, c.priority)
		for _, n := range slaveNames {
			p := ""
			for _, s := range c.slaves {
				if s.name == n {
					p = s.path
				}
			}
			fmt.Fprintf(&b, "%s\n", p)
		}
	}
	b.WriteString("\n")
	return b.Bytes()
}
