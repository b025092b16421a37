package secret

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpensOnlyWithTheSameKeyAndPlace(t *testing.T) {
	t.Parallel()
	k, _ := NewKey()
	other, _ := NewKey()
	sealed := k.Seal("hunter2", "task-1/PASSWORD")
	if strings.Contains(sealed, "hunter2") || !strings.HasPrefix(sealed, "v1:") {
		t.Fatalf("sealed = %q, want v1: and no plaintext", sealed)
	}
	if again := k.Seal("hunter2", "task-1/PASSWORD"); again == sealed {
		t.Fatal("two seals of one value are equal: the nonce is not fresh")
	}
	got, err := k.Open(sealed, "task-1/PASSWORD")
	if err != nil || got != "hunter2" {
		t.Fatalf("Open = %q, %v; want hunter2", got, err)
	}
	for _, tc := range []struct {
		name   string
		key    *Key
		sealed string
		place  string
	}{
		{"another key", other, sealed, "task-1/PASSWORD"},
		{"another place", k, sealed, "task-2/PASSWORD"},
		{"no prefix", k, strings.TrimPrefix(sealed, "v1:"), "task-1/PASSWORD"},
		{"not base64", k, "v1:!!!", "task-1/PASSWORD"},
		{"too short", k, "v1:AAAA", "task-1/PASSWORD"},
		{"tampered", k, sealed[:len(sealed)-4] + "AAAA", "task-1/PASSWORD"},
	} {
		if _, err := tc.key.Open(tc.sealed, tc.place); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open error = %v, want ErrOpen", tc.name, err)
		}
	}
}

func TestParseKeyRefusesWhatIsNot32Bytes(t *testing.T) {
	t.Parallel()
	_, enc := NewKey()
	if _, err := ParseKey(" " + enc + "\n"); err != nil {
		t.Fatalf("ParseKey(%q) = %v", enc, err)
	}
	if _, err := ParseKey(strings.TrimRight(enc, "=")); err != nil {
		t.Fatalf("ParseKey without padding = %v", err)
	}
	for _, bad := range []string{"", "short", "AAAA", enc + enc, "not base64 at all!!"} {
		if _, err := ParseKey(bad); !errors.Is(err, ErrBadKey) {
			t.Errorf("ParseKey(%q) = %v, want ErrBadKey", bad, err)
		}
	}
}

func TestCredentialIsStableAndSeparatesSubjects(t *testing.T) {
	t.Parallel()
	_, enc := NewKey()
	a, _ := ParseKey(enc)
	b, _ := ParseKey(enc) // another replica with the same key
	c := a.Credential("dpj", "job", "step-1/w-1")
	if !strings.HasPrefix(c, "dpj_") || !b.Verify(c, "dpj", "job", "step-1/w-1") {
		t.Fatalf("credential %q does not verify on a key parsed from the same text", c)
	}
	if a.Verify(c, "dpj", "job", "step-1/w-2") || a.Verify(c, "dpj", "other", "step-1/w-1") {
		t.Fatal("a credential verifies for another subject or purpose")
	}
	other, _ := NewKey()
	if other.Verify(c, "dpj", "job", "step-1/w-1") {
		t.Fatal("a credential verifies under another key")
	}
}

func TestLoadGeneratesOnceAndRequiresAKeyWhenAsked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret-key")
	k1, err := Load("", path, true)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file = %v, %v; want mode 0600", fi, err)
	}
	k2, err := Load("", path, true)
	if err != nil {
		t.Fatalf("Load again: %v", err)
	}
	if v, err := k2.Open(k1.Seal("x", "p"), "p"); err != nil || v != "x" {
		t.Fatalf("the second Load read another key: %q, %v", v, err)
	}
	if _, err := Load("", path, false); !errors.Is(err, ErrKeyRequired) {
		t.Fatalf("Load without a key when one is required = %v, want ErrKeyRequired", err)
	}
	if _, err := Load("bad", path, true); !errors.Is(err, ErrBadKey) {
		t.Fatalf("Load(bad) = %v, want ErrBadKey", err)
	}
	if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("", path, true); !errors.Is(err, ErrBadKey) {
		t.Fatalf("Load of a damaged key file = %v, want ErrBadKey", err)
	}
	if _, err := Load("", filepath.Join(t.TempDir(), "missing", "secret-key"), true); err == nil {
		t.Fatal("Load into a missing directory succeeded")
	}
}
