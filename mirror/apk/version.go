package apk

// This is a port of apk-tools 2.14's version tokenizer (src/version.c).
// It is deliberately token-for-token rather than "cleaned up": mirrors must
// order versions exactly as apk does, quirks included (leading zeros compare
// as negative counts, digit runs of 18+ characters are invalid, ...).
// Expected values in version_test.go were produced by `apk version -t`.

// Token types, in the order apk uses for its "which token follows" checks
// and for breaking ties between versions of different shapes.
const (
	tokInvalid     = -1
	tokDigitOrZero = iota - 1
	tokDigit
	tokLetter
	tokSuffix
	tokSuffixNo
	tokRevisionNo
	tokEnd
	// tokOverflow marks a digit run too long for apk; unlike other invalid
	// input apk 2.14.4 orders it after the end of a version.
	tokOverflow
)

// maxDigits is apk's limit on a digit run; longer runs make a version invalid
// (they would overflow the 64-bit accumulator).
const maxDigits = 18

var (
	preSuffixes  = []string{"alpha", "beta", "pre", "rc"}
	postSuffixes = []string{"cvs", "svn", "git", "hg", "p"}
)

// verLexer walks one version string.
type verLexer struct {
	s   string
	typ int
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// nextType decides the type of the token starting at l.s[0], consuming any
// separator, and rejects sequences apk rejects.
func (l *verLexer) nextType() {
	n := tokInvalid
	switch {
	case len(l.s) == 0 || l.s[0] == 0:
		n = tokEnd
	case (l.typ == tokDigit || l.typ == tokDigitOrZero) && isLower(l.s[0]):
		n = tokLetter
	case l.typ == tokLetter && isDigit(l.s[0]):
		n = tokDigit
	case l.typ == tokSuffix && isDigit(l.s[0]):
		n = tokSuffixNo
	default:
		switch l.s[0] {
		case '.':
			n = tokDigitOrZero
		case '_':
			n = tokSuffix
		case '-':
			if len(l.s) > 1 && l.s[1] == 'r' {
				n = tokRevisionNo
				l.s = l.s[1:]
			}
		}
		l.s = l.s[1:]
	}
	if n < l.typ && !((n == tokDigitOrZero && l.typ == tokDigit) ||
		(n == tokSuffix && l.typ == tokSuffixNo) ||
		(n == tokDigit && l.typ == tokLetter)) {
		n = tokInvalid
	}
	l.typ = n
}

// next returns the value of the current token and advances l.typ to the
// type of the following one.
func (l *verLexer) next() int64 {
	if len(l.s) == 0 {
		l.typ = tokEnd
		return 0
	}
	var v int64
	i := 0
	leadingZeros := false
	switch l.typ {
	case tokDigitOrZero:
		if l.s[0] == '0' {
			// Leading zeros count negatively: 1.0 > 1.00 > 1.000.
			for i < len(l.s) && l.s[i] == '0' {
				i++
			}
			v = -int64(i)
			leadingZeros = true
			break
		}
		fallthrough
	case tokDigit, tokSuffixNo, tokRevisionNo:
		for i < len(l.s) && isDigit(l.s[i]) {
			v = v*10 + int64(l.s[i]-'0')
			i++
		}
		if i >= maxDigits {
			l.typ = tokOverflow
			return -1
		}
	case tokLetter:
		v = int64(l.s[0])
		i = 1
	case tokSuffix:
		found := false
		for k, suf := range preSuffixes {
			if len(l.s) >= len(suf) && l.s[:len(suf)] == suf {
				v, i, found = int64(k-len(preSuffixes)), len(suf), true
				break
			}
		}
		if !found {
			for k, suf := range postSuffixes {
				if len(l.s) >= len(suf) && l.s[:len(suf)] == suf {
					v, i, found = int64(k), len(suf), true
					break
				}
			}
		}
		if !found {
			l.typ = tokInvalid
			return -1
		}
	default:
		l.typ = tokInvalid
		return -1
	}
	l.s = l.s[i:]
	switch {
	case len(l.s) == 0:
		l.typ = tokEnd
	case leadingZeros && (isDigit(l.s[0]) || l.s[0] == '.'):
		// apk continues with a digit token after a zero run; before a dot
		// that token is empty (value 0), so 1.001 and 1.01 beat 1.00.1.
		l.typ = tokDigit
	default:
		if leadingZeros {
			l.typ = tokDigit
		}
		l.nextType()
	}
	return v
}

// ValidVersion reports whether v is a version apk accepts.
func ValidVersion(v string) bool {
	l := verLexer{s: v, typ: tokDigit}
	for l.typ != tokEnd && l.typ != tokInvalid && l.typ != tokOverflow {
		l.next()
	}
	return l.typ == tokEnd
}

// CompareVersions orders two apk versions like apk_version_compare:
// -1 if a < b, 0 if equal, 1 if a > b.
func CompareVersions(a, b string) int {
	return compareVersions(a, b, false)
}

// compareVersions implements apk_version_compare_blob_fuzzy. With fuzzy set,
// a version matches when b is a prefix of it token-wise ("~1.2" matches 1.2.5).
func compareVersions(a, b string, fuzzy bool) int {
	la := verLexer{s: a, typ: tokDigit}
	lb := verLexer{s: b, typ: tokDigit}
	var av, bv int64
	for la.typ == lb.typ && la.typ >= 0 && la.typ < tokEnd && av == bv {
		av = la.next()
		bv = lb.next()
	}
	switch {
	case av < bv:
		return -1
	case av > bv:
		return 1
	}
	if la.typ == lb.typ || (fuzzy && lb.typ == tokEnd) {
		return 0
	}
	// Equal so far: the longer version is newer unless what follows is a
	// pre-release suffix (1.0_rc1 < 1.0).
	if la.typ == tokSuffix && la.peekSuffix() < 0 {
		return -1
	}
	if lb.typ == tokSuffix && lb.peekSuffix() < 0 {
		return 1
	}
	switch {
	case la.typ > lb.typ:
		return -1
	case lb.typ > la.typ:
		return 1
	}
	return 0
}

// peekSuffix returns the value of the pending suffix token without
// consuming it (negative for pre-release suffixes).
func (l verLexer) peekSuffix() int64 {
	return l.next()
}
