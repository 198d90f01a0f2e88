package rootfs

import (
	"bytes"
	"strings"
)

// shellCommands splits a shell script into simple commands, each a list of
// words: backslash-newlines join lines, quotes group words, "#" starts a
// comment, and newlines and ; & | ( ) end commands. It is no shell, only
// enough to read the literal update-alternatives calls maintainer
// scripts are made of.
func shellCommands(script []byte) [][]string {
	s := bytes.ReplaceAll(script, []byte("\\\n"), nil)
	var cmds [][]string
	var cmd []string
	var word strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			cmd = append(cmd, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(cmd) > 0 {
			cmds = append(cmds, cmd)
		}
		cmd = nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
			endCmd()
		case c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')':
			endCmd()
		case c == ' ' || c == '\t':
			endWord()
		case c == '\\' && i+1 < len(s):
			i++
			word.WriteByte(s[i])
			inWord = true
		case c == '\'' || c == '"':
			j := bytes.IndexByte(s[i+1:], c)
			if j < 0 {
				j = len(s) - i - 1
			}
			word.Write(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// isRedirection reports shell redirections such as ">/dev/null" or "2>".
func isRedirection(w string) bool {
	w = strings.TrimLeft(w, "0123456789")
	return strings.HasPrefix(w, ">") || strings.HasPrefix(w, "<")
}
