package apksign

import (
	"bytes"
	"testing"
)

// FuzzVerifyIndex feeds mutated indexes to VerifyIndex with a fixed keyring
// (the Alpine keys plus the test signer). Nothing may panic, and nothing may
// be accepted unless its content is exactly a genuinely signed content: the
// gzip header of the unsigned signature member (mtime, OS byte) is not
// covered by anything in the format, so such mutations legitimately verify.
func FuzzVerifyIndex(f *testing.F) {
	keys := alpineKeys(f)
	s, pub := testSigner()
	if err := keys.Add(s.KeyName, pub); err != nil {
		f.Fatal(err)
	}
	genuine := map[string]bool{}
	addSeed := func(data []byte) {
		idx, err := VerifyIndex(data, keys)
		if err != nil {
			f.Fatal(err)
		}
		genuine[idx.Description+"\x00"+string(idx.APKINDEX)] = true
		f.Add(data)
	}
	addSeed(readAlpine(f, "iso-3.19.1/x86_64/APKINDEX.tar.gz"))
	var ours bytes.Buffer
	if err := s.WriteIndex(&ours, []byte("P:musl\nV:1.2.4-r4\nC:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"), "fuzz"); err != nil {
		f.Fatal(err)
	}
	addSeed(ours.Bytes())
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})

	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := VerifyIndex(data, keys)
		if err != nil {
			if idx != nil {
				t.Fatal("result returned together with an error")
			}
			return
		}
		if !genuine[idx.Description+"\x00"+string(idx.APKINDEX)] {
			t.Fatalf("accepted forged content (key %s, %d bytes)", idx.KeyName, len(idx.APKINDEX))
		}
	})
}
