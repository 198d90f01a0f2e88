package apksign

import (
	"archive/tar"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1" // register the hashes signature types name
	_ "crypto/sha256"
	_ "crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

const (
	signPrefix   = ".SIGN."
	maxSigSize   = 64 << 10 // far above a 16384-bit RSA signature
	maxSigCount  = 64       // more entries than this is abuse, not key rotation
	sigAlgRSA    = "RSA"
	sigAlgRSA256 = "RSA256"
)

// sigAlgorithms are the signature types apk-tools 2.14 understands (DSA
// aside, which it never shipped keys for), longest prefix first.
var sigAlgorithms = []struct {
	name string
	hash crypto.Hash
}{
	{"RSA512", crypto.SHA512},
	{sigAlgRSA256, crypto.SHA256},
	{sigAlgRSA, crypto.SHA1},
}

// sigEntry is one ".SIGN.<alg>.<key>" file of a signature member.
type sigEntry struct {
	file    string
	alg     string // "" if apk-tools would not understand it
	hash    crypto.Hash
	keyName string
	sig     []byte
}

func parseSigName(name string) sigEntry {
	e := sigEntry{file: name}
	rest := strings.TrimPrefix(name, signPrefix)
	for _, a := range sigAlgorithms {
		if key, ok := strings.CutPrefix(rest, a.name+"."); ok && key != "" {
			e.alg, e.hash, e.keyName = a.name, a.hash, key
			break
		}
	}
	return e
}

// errUnsigned stops the walk of a first member that does not start with a
// signature entry.
var errUnsigned = errors.New("first member is not a signature")

// readSigMember reads the first member. signed is false when its first entry
// is not a signature file (an unsigned file, whose member was still consumed).
func readSigMember(m *memberReader) (sigs []sigEntry, signed bool, err error) {
	content, err := m.next()
	if err != nil {
		if err == io.EOF {
			return nil, false, fmt.Errorf("%w: empty file", ErrMalformed)
		}
		return nil, false, malformed("first gzip member", err)
	}
	err = eachEntry(content, "signature member", func(tr *tar.Reader, hdr *tar.Header) error {
		if !strings.HasPrefix(hdr.Name, signPrefix) {
			if len(sigs) == 0 {
				return errUnsigned
			}
			return fmt.Errorf("%w: signature member holds non-signature entry %q", ErrMalformed, hdr.Name)
		}
		if len(sigs) == maxSigCount {
			return fmt.Errorf("%w: more than %d signature entries", ErrMalformed, maxSigCount)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size <= 0 || hdr.Size > maxSigSize {
			return fmt.Errorf("%w: signature entry %q: bad type or size %d", ErrMalformed, hdr.Name, hdr.Size)
		}
		e := parseSigName(hdr.Name)
		var err error
		if e.sig, err = io.ReadAll(tr); err != nil {
			return malformed("signature entry "+hdr.Name, err)
		}
		sigs = append(sigs, e)
		return nil
	})
	if errors.Is(err, errUnsigned) {
		if err := m.finish(); err != nil {
			return nil, false, malformed("first gzip member", err)
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if err := m.finish(); err != nil {
		return nil, false, malformed("signature member", err)
	}
	if len(sigs) == 0 {
		return nil, false, fmt.Errorf("%w: first gzip member is an empty tar segment", ErrMalformed)
	}
	return sigs, true, nil
}

// verifier checks the signatures of a signature member against the hash of
// the member that follows it.
type verifier struct {
	sigs   []sigEntry // trusted ones, in file order
	keys   []*rsa.PublicKey
	hashes map[crypto.Hash]hash.Hash
}

// newVerifier selects the signatures made by trusted keys. Unlike apk-tools,
// which checks only the first trusted one, every trusted signature must
// verify: a mirror has no reason to accept a file with a broken signature.
// readSignatures reads the first gzip member, which must sign what
// follows, and returns the verifier for the signed members.
func readSignatures(m *memberReader, keys *Keyring) (*verifier, error) {
	sigs, signed, err := readSigMember(m)
	if err != nil {
		return nil, err
	}
	if !signed {
		return nil, fmt.Errorf("%w: no .SIGN.* entry in the first gzip member", ErrUnsigned)
	}
	return newVerifier(sigs, keys)
}

func newVerifier(sigs []sigEntry, keys *Keyring) (*verifier, error) {
	v := &verifier{hashes: make(map[crypto.Hash]hash.Hash)}
	var untrusted, unknown []string
	for _, s := range sigs {
		if s.alg == "" {
			unknown = append(unknown, s.file)
			continue
		}
		pub, ok := keys.Key(s.keyName)
		if !ok {
			untrusted = append(untrusted, s.keyName)
			continue
		}
		v.sigs = append(v.sigs, s)
		v.keys = append(v.keys, pub)
		if v.hashes[s.hash] == nil {
			v.hashes[s.hash] = s.hash.New()
		}
	}
	if len(v.sigs) > 0 {
		return v, nil
	}
	if len(untrusted) > 0 {
		return nil, fmt.Errorf("%w: signed by key %s which is not trusted", ErrUntrusted, strings.Join(untrusted, ", "))
	}
	return nil, fmt.Errorf("%w: only unsupported signature types: %s", ErrUntrusted, strings.Join(unknown, ", "))
}

// writer receives the signed member's compressed bytes.
func (v *verifier) writer() io.Writer {
	ws := make([]io.Writer, 0, len(v.hashes))
	for _, h := range v.hashes {
		ws = append(ws, h)
	}
	return io.MultiWriter(ws...)
}

// verify returns the first trusted signature (the one apk-tools would use)
// once all trusted signatures have been checked.
func (v *verifier) verify() (keyName, alg string, err error) {
	for i, s := range v.sigs {
		digest := v.hashes[s.hash].Sum(nil)
		if rsa.VerifyPKCS1v15(v.keys[i], s.hash, digest, s.sig) != nil {
			return "", "", fmt.Errorf("%w: %s signature by key %s does not match the signed content", ErrBadSignature, s.alg, s.keyName)
		}
	}
	return v.sigs[0].keyName, v.sigs[0].alg, nil
}

// checkNotSignature refuses a second signature member: only the first member
// may sign, and a stacked one would leave the content check ambiguous.
func checkNotSignature(name string) error {
	if strings.HasPrefix(name, signPrefix) {
		return fmt.Errorf("%w: more than one signature member (found %q after the first)", ErrMalformed, name)
	}
	return nil
}

// errBoth prefers the signature verdict over a decode error: when content
// fails to decode and also fails its signature, it was tampered with.
func errBoth(v *verifier, m *memberReader, decodeErr error) error {
	var corrupt corruptError
	if !errors.As(decodeErr, &corrupt) || errors.Is(decodeErr, ErrTruncated) {
		return decodeErr // a structural refusal or truncation says it all
	}
	if err := m.drain(); err == nil {
		m.setHash(nil)
		if _, _, err := v.verify(); err != nil {
			return fmt.Errorf("%w (and the content does not decode: %v)", err, decodeErr)
		}
	}
	return decodeErr
}
