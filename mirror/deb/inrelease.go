package deb

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/lkpkg/lkpkg/mirror/debfile"
)

// maxClockSkew is how far in the future a Release's Date (and signature
// creation time) may be before it is refused: the archive's and this
// machine's clocks are never exactly in step.
const maxClockSkew = 5 * time.Minute

// VerifyInRelease checks the clearsigned InRelease data with the keyring
// and parses it. One good signature by a trusted key is enough: Debian
// signs with two or three keys (current and next release's), and the
// others may legitimately be unknown to kr. It refuses data that is not a
// single clearsigned message, signatures that do not verify, unknown,
// expired or revoked keys, expired signatures, signatures whose digest is
// weaker than SHA-256 (MD5, SHA-1, RIPEMD-160, SHA-224), a Valid-Until before now
// and a Date more than a few minutes after now. Errors wrap the Err*
// sentinels and name the suite and the key ids involved.
func VerifyInRelease(data []byte, kr *Keyring, now time.Time) (*Release, error) {
	if kr == nil || len(kr.entities) == 0 {
		return nil, fmt.Errorf("deb: verify InRelease: empty keyring")
	}
	block, err := decodeClearsigned(data)
	if err != nil {
		return nil, fmt.Errorf("deb: InRelease: %w", err)
	}
	// The suite named in errors comes from the not yet verified text: it
	// only labels the message, nothing is decided on it.
	suite := claimedSuite(block.Plaintext)
	primary, signing, err := verifySignatures(block, kr, now)
	if err != nil {
		return nil, fmt.Errorf("deb: InRelease for %s: %w", suite, err)
	}
	rel, err := parseRelease(string(block.Plaintext))
	if err != nil {
		return nil, fmt.Errorf("deb: InRelease for %s: %w", suite, err)
	}
	suite = rel.Codename
	if suite == "" {
		suite = rel.Suite
	}
	if rel.Date.After(now.Add(maxClockSkew)) {
		return nil, fmt.Errorf("deb: InRelease for %s: %w: Date %s is after now (%s)",
			suite, ErrNotYetValid, rel.Date.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !rel.ValidUntil.IsZero() && now.After(rel.ValidUntil) {
		return nil, fmt.Errorf("deb: InRelease for %s: %w: Valid-Until %s is before now (%s)",
			suite, ErrReleaseExpired, rel.ValidUntil.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	rel.SignedBy, rel.SignedByPrimary = signing, primary
	sum := sha256.Sum256(data)
	rel.SHA256 = hex.EncodeToString(sum[:])
	return rel, nil
}

var clearsignHeader = []byte("-----BEGIN PGP SIGNED MESSAGE-----")

// decodeClearsigned accepts exactly one clearsigned message and nothing
// around it: text outside the signed part is a classic way to make a
// parser and a verifier see different documents (apt refuses it too).
func decodeClearsigned(data []byte) (*clearsign.Block, error) {
	if !bytes.HasPrefix(data, clearsignHeader) {
		if bytes.Contains(data, clearsignHeader) {
			return nil, fmt.Errorf("%w: data before the signed message", ErrNotClearsigned)
		}
		return nil, fmt.Errorf("%w: no PGP SIGNED MESSAGE header (unsigned?)", ErrNotClearsigned)
	}
	block, rest := clearsign.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: malformed clearsigned message", ErrNotClearsigned)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: data after the signature", ErrNotClearsigned)
	}
	return block, nil
}

// claimedSuite extracts Codename (else Suite) from unverified text for
// error messages.
func claimedSuite(text []byte) string {
	var suite string
	for _, line := range strings.Split(string(text), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(name) {
		case "codename":
			return debfile.Clip(strings.TrimSpace(v))
		case "suite":
			suite = debfile.Clip(strings.TrimSpace(v))
		}
	}
	if suite == "" {
		return "unknown suite"
	}
	return suite
}

// sigProblem is why one signature was not accepted.
type sigProblem struct {
	kind error // one of the Err* sentinels
	desc string
}

// problemRank orders refusal reasons: the most alarming one becomes the
// error callers match with errors.Is.
var problemRank = []error{ErrBadSignature, ErrKeyRevoked, ErrWeakDigest, ErrKeyExpired, ErrSignatureExpired, ErrUnknownKey}

// strongHash reports whether a signature's digest is at least as strong
// as SHA-256: SHA-256, SHA-384, SHA-512 or SHA-3. apt refuses MD5, SHA-1
// and RIPEMD-160 (collisions make one signature vouch for a second,
// forged text); SHA-224, which apt still takes, is refused too.
func strongHash(h crypto.Hash) bool {
	switch h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA3_256, crypto.SHA3_512:
		return true
	}
	return false
}

// verifySignatures checks each signature packet on its own, so that an
// unknown, expired or broken first signature cannot hide a good second one
// (openpgp.VerifyDetachedSignature stops at the first known issuer). It
// returns the primary and signing key fingerprints of the first good one.
func verifySignatures(block *clearsign.Block, kr *Keyring, now time.Time) (primary, signing string, err error) {
	sigs, problems, err := readSignatures(block)
	if err != nil {
		return "", "", err
	}
	// Signature and key validity are judged at now+skew, the same grace
	// the Date check gives, so a signature made seconds "in the future" by
	// a slightly fast archive clock is not refused.
	config := &packet.Config{Time: func() time.Time { return now.Add(maxClockSkew) }}
	for _, sig := range sigs {
		var one bytes.Buffer
		if err := sig.Serialize(&one); err != nil {
			problems = append(problems, sigProblem{ErrBadSignature, fmt.Sprintf("%s: %v", describeIssuer(sig, kr), err)})
			continue
		}
		_, signer, err := openpgp.VerifyDetachedSignature(kr.entities, bytes.NewReader(block.Bytes), &one, config)
		if err == nil && !strongHash(sig.Hash) {
			// go-crypto's v1 API verifies SHA-1 (and SHA-224)
			// signatures without a word; apt (gpgv) treats SHA-1 ones as
			// worthless, since a collision lets one signature cover a
			// second, forged text.
			problems = append(problems, sigProblem{ErrWeakDigest, fmt.Sprintf(
				"%s: signature uses the weak digest %s (SHA-256 or stronger is required)", describeIssuer(sig, kr), sig.Hash)})
			continue
		}
		if err == nil {
			return fingerprint(signer.PrimaryKey.Fingerprint), signingKey(sig, signer), nil
		}
		problems = append(problems, classify(sig, kr, err))
	}
	var kind error
	for _, k := range problemRank {
		for _, p := range problems {
			if p.kind == k && kind == nil {
				kind = k
			}
		}
	}
	descs := make([]string, len(problems))
	for i, p := range problems {
		descs[i] = p.desc
	}
	return "", "", fmt.Errorf("%w: no good signature by a trusted key (%s)", kind, strings.Join(descs, "; "))
}

// readSignatures parses the armored signature block into its packets. It
// skips the packets go-crypto's packet.Reader skips (markers, unknown
// types, unsupported algorithms), except signatures whose digest is MD5
// or RIPEMD-160: go-crypto cannot parse those, and they are returned as
// weak-digest problems, so the refusal says why instead of "no
// signatures".
func readSignatures(block *clearsign.Block) ([]*packet.Signature, []sigProblem, error) {
	raw, err := io.ReadAll(block.ArmoredSignature.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: signature block: %v", ErrNotClearsigned, err)
	}
	var sigs []*packet.Signature
	var weak []sigProblem
	or := packet.NewOpaqueReader(bytes.NewReader(raw))
	for {
		op, err := or.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: signature block: %v", ErrNotClearsigned, err)
		}
		p, err := op.Parse()
		if err != nil {
			if h, ok := unparsedWeakHash(op); ok {
				weak = append(weak, sigProblem{ErrWeakDigest, fmt.Sprintf(
					"a signature uses the weak digest %s (SHA-256 or stronger is required)", h)})
				continue
			}
			var unknown pgperrors.UnknownPacketTypeError
			var unsupported pgperrors.UnsupportedError
			if errors.As(err, &unknown) || errors.As(err, &unsupported) {
				continue // as packet.Reader does
			}
			return nil, nil, fmt.Errorf("%w: signature block: %v", ErrNotClearsigned, err)
		}
		if _, ok := p.(*packet.Marker); ok {
			continue
		}
		sig, ok := p.(*packet.Signature)
		if !ok {
			return nil, nil, fmt.Errorf("%w: signature block holds a %T", ErrNotClearsigned, p)
		}
		if sig.IssuerKeyId == nil {
			return nil, nil, fmt.Errorf("%w: signature without issuer", ErrNotClearsigned)
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 && len(weak) == 0 {
		return nil, nil, fmt.Errorf("%w: no signatures", ErrNotClearsigned)
	}
	return sigs, weak, nil
}

// unparsedWeakHash reports the digest of a signature packet that
// go-crypto refused to parse, if it is MD5 or RIPEMD-160. Version 4 and
// later signatures start version, type, public-key algorithm, hash
// algorithm (RFC 9580 5.2.3); version 3 ones have the hash at offset 16.
func unparsedWeakHash(op *packet.OpaquePacket) (crypto.Hash, bool) {
	const tagSignature = 2
	c := op.Contents
	if op.Tag != tagSignature || len(c) < 4 {
		return 0, false
	}
	id := c[3]
	if c[0] == 2 || c[0] == 3 {
		if len(c) < 17 {
			return 0, false
		}
		id = c[16]
	}
	switch id {
	case 1:
		return crypto.MD5, true
	case 3:
		return crypto.RIPEMD160, true
	}
	return 0, false
}

// classify turns a go-crypto verification error into a sigProblem.
func classify(sig *packet.Signature, kr *Keyring, err error) sigProblem {
	who := describeIssuer(sig, kr)
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return sigProblem{ErrUnknownKey, who + ": key not in keyring"}
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return sigProblem{ErrKeyRevoked, who + ": key revoked"}
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return sigProblem{ErrKeyExpired, who + ": key expired"}
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		return sigProblem{ErrSignatureExpired, who + ": signature expired or made in the future"}
	}
	return sigProblem{ErrBadSignature, fmt.Sprintf("%s: bad signature (%v)", who, err)}
}

// describeIssuer names a signature's key: its id (or fingerprint when the
// signature carries one) and, for keys in kr, the primary user id.
func describeIssuer(sig *packet.Signature, kr *Keyring) string {
	who := "key " + keyID(*sig.IssuerKeyId)
	if len(sig.IssuerFingerprint) > 0 {
		who = "key " + fingerprint(sig.IssuerFingerprint)
	}
	for _, k := range kr.entities.KeysById(*sig.IssuerKeyId) {
		if id := k.Entity.PrimaryIdentity(); id != nil {
			return who + " (" + id.Name + ")"
		}
	}
	return who
}

// signingKey returns the fingerprint of the (sub)key that made sig.
func signingKey(sig *packet.Signature, signer *openpgp.Entity) string {
	if len(sig.IssuerFingerprint) > 0 {
		return fingerprint(sig.IssuerFingerprint)
	}
	if signer.PrimaryKey.KeyId == *sig.IssuerKeyId {
		return fingerprint(signer.PrimaryKey.Fingerprint)
	}
	for _, sk := range signer.Subkeys {
		if sk.PublicKey.KeyId == *sig.IssuerKeyId {
			return fingerprint(sk.PublicKey.Fingerprint)
		}
	}
	return keyID(*sig.IssuerKeyId)
}
