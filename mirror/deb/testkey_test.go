package deb

// Generated OpenPGP archive keys and the messages the synthetic InRelease
// and keyring tests sign with them.

import (
	"bytes"
	"crypto"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// testKey is a generated archive key for synthetic InRelease tests.
type testKey struct {
	e *openpgp.Entity
}

// newTestKey generates an EdDSA key created at created; lifetime 0 means
// it never expires.
func newTestKey(t testing.TB, name string, created time.Time, lifetime time.Duration) *testKey {
	t.Helper()
	return generateKey(t, name, &packet.Config{
		Algorithm:       packet.PubKeyAlgoEdDSA,
		Time:            func() time.Time { return created },
		KeyLifetimeSecs: uint32(lifetime / time.Second),
	})
}

// newRSATestKey generates a 2048-bit RSA key, like Debian's archive keys,
// created at created.
func newRSATestKey(t testing.TB, name string, created time.Time) *testKey {
	t.Helper()
	return generateKey(t, name, &packet.Config{
		Algorithm: packet.PubKeyAlgoRSA,
		RSABits:   2048,
		Time:      func() time.Time { return created },
	})
}

func generateKey(t testing.TB, name string, cfg *packet.Config) *testKey {
	t.Helper()
	e, err := openpgp.NewEntity(name, "test", name+"@example.org", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{e: e}
}

func (k *testKey) fingerprint() string { return fingerprint(k.e.PrimaryKey.Fingerprint) }
func (k *testKey) keyID() string       { return keyID(k.e.PrimaryKey.KeyId) }

// revoke adds a key revocation made at when.
func (k *testKey) revoke(t testing.TB, when time.Time) {
	t.Helper()
	cfg := &packet.Config{Time: func() time.Time { return when }}
	if err := k.e.RevokeKey(packet.KeyCompromised, "test", cfg); err != nil {
		t.Fatal(err)
	}
}

// public returns the binary public keyring of keys.
func public(t testing.TB, keys ...*testKey) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, k := range keys {
		if err := k.e.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// armored returns keys as an ASCII-armored public keyring.
func armored(t testing.TB, keys ...*testKey) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(public(t, keys...))
	w.Close()
	return buf.Bytes()
}

// clearsignText signs text with every key, at when, with an optional
// signature lifetime.
func clearsignText(t testing.TB, text string, when time.Time, sigLifetime time.Duration, keys ...*testKey) []byte {
	t.Helper()
	var privs []*packet.PrivateKey
	for _, k := range keys {
		privs = append(privs, k.e.PrivateKey)
	}
	cfg := &packet.Config{
		Time:            func() time.Time { return when },
		SigLifetimeSecs: uint32(sigLifetime / time.Second),
	}
	var buf bytes.Buffer
	w, err := clearsign.EncodeMulti(&buf, privs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// signedWith clearsigns text with k using digest h. go-crypto's signing
// API picks SHA-256 or better whatever it is asked, so the signature
// packet is made by hand, as an old archive tool (or someone holding a
// collision for a weak digest) would make it. go-crypto cannot compute
// MD5 or RIPEMD-160 signatures at all: for those the packet is signed
// with SHA-256 and its hash algorithm byte then changed, which gives the
// packet a real archive signed with them would have, but for its
// (unchecked) signature value.
func signedWith(t testing.TB, k *testKey, text string, when time.Time, h crypto.Hash) []byte {
	t.Helper()
	patch := map[crypto.Hash]byte{crypto.MD5: 1, crypto.RIPEMD160: 3}
	signHash := h
	if _, ok := patch[h]; ok {
		signHash = crypto.SHA256
	}
	priv := k.e.PrivateKey
	sig := &packet.Signature{
		Version: 4, SigType: packet.SigTypeText, PubKeyAlgo: priv.PubKeyAlgo, Hash: signHash,
		CreationTime: when, IssuerKeyId: &priv.KeyId,
	}
	d := signHash.New()
	// The clearsigned text is hashed with CRLF line ends, without the
	// final line end.
	d.Write([]byte(strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\r\n")))
	// No salt notation: go-crypto only knows salt sizes for strong digests.
	noSalt := false
	if err := sig.Sign(d, priv, &packet.Config{Time: func() time.Time { return when }, NonDeterministicSignaturesViaNotation: &noSalt}); err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := sig.Serialize(&raw); err != nil {
		t.Fatal(err)
	}
	if id, ok := patch[h]; ok {
		op, err := packet.NewOpaqueReader(bytes.NewReader(raw.Bytes())).Next()
		if err != nil {
			t.Fatal(err)
		}
		op.Contents[3] = id
		raw.Reset()
		if err := op.Serialize(&raw); err != nil {
			t.Fatal(err)
		}
	}
	name := map[crypto.Hash]string{crypto.MD5: "MD5", crypto.SHA1: "SHA1", crypto.RIPEMD160: "RIPEMD160",
		crypto.SHA224: "SHA224", crypto.SHA256: "SHA256", crypto.SHA512: "SHA512"}[h]
	var buf bytes.Buffer
	buf.WriteString("-----BEGIN PGP SIGNED MESSAGE-----\nHash: " + name + "\n\n" + text)
	w, err := armor.Encode(&buf, "PGP SIGNATURE", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw.Bytes())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// withSignaturesOf returns the clearsigned message of msg with the
// signature packets of every one of signed instead of its own.
func withSignaturesOf(t testing.TB, msg []byte, signed ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.Write(msg[:bytes.Index(msg, []byte("-----BEGIN PGP SIGNATURE-----"))])
	w, err := armor.Encode(&buf, "PGP SIGNATURE", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range signed {
		block, _ := clearsign.Decode(s)
		if block == nil {
			t.Fatal("not clearsigned")
		}
		raw, err := io.ReadAll(block.ArmoredSignature.Body)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw)
	}
	w.Close()
	buf.WriteByte('\n')
	return buf.Bytes()
}
