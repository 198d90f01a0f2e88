package apksign

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKeyringReal(t *testing.T) {
	k := alpineKeys(t)
	if got := len(k.Names()); got != 18 {
		t.Fatalf("loaded %d keys, want the 18 alpine-keys", got)
	}
	if _, ok := k.Key(key6165ee59); !ok {
		t.Fatalf("key %s missing", key6165ee59)
	}
}

func TestLoadKeyringNamesBadFile(t *testing.T) {
	dir := t.TempDir()
	good := readAlpine(t, "keys/"+key6165ee59)
	if err := os.WriteFile(filepath.Join(dir, key6165ee59), good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.rsa.pub"), []byte("not a key"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadKeyring(dir)
	if err == nil || !strings.Contains(err.Error(), "broken.rsa.pub") {
		t.Fatalf("error should name the bad file, got %v", err)
	}
}

func TestLoadKeyringEmptyDir(t *testing.T) {
	if _, err := LoadKeyring(t.TempDir()); err == nil {
		t.Fatal("empty key dir accepted")
	}
}

func TestKeyringAddRejects(t *testing.T) {
	k := NewKeyring()
	for name, pem := range map[string]string{
		"junk.rsa.pub": "junk",
		"priv.rsa.pub": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"a/b.rsa.pub":  string(readAlpine(t, "keys/"+key6165ee59)),
	} {
		if err := k.Add(name, []byte(pem)); err == nil {
			t.Errorf("Add(%q) accepted", name)
		}
	}
}
