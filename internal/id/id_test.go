package id

import (
	"regexp"
	"testing"
)

func TestNewAndSecretAreShapedAndUnique(t *testing.T) {
	t.Parallel()
	idShape := regexp.MustCompile(`^w-[a-z2-9]{16}$`)
	secretShape := regexp.MustCompile(`^dpk_[a-z2-9]{52}$`)
	seen := map[string]bool{}
	for range 1000 {
		i, s := New("w"), Secret("dpk")
		if !idShape.MatchString(i) || !secretShape.MatchString(s) {
			t.Fatalf("New = %q, Secret = %q; want w-<16> and dpk_<52> lowercase base32", i, s)
		}
		if seen[i] || seen[s] {
			t.Fatalf("repeated value %q or %q", i, s)
		}
		seen[i], seen[s] = true, true
	}
}

func TestHashIsStableAndSeparatesSecrets(t *testing.T) {
	t.Parallel()
	a, b := Secret("dpk"), Secret("dpk")
	if first, again := Hash(a), Hash(a); first != again {
		t.Fatal("Hash of one secret differs between calls")
	}
	if Hash(a) == Hash(b) {
		t.Fatal("two secrets hash alike")
	}
	if len(Hash(a)) != 64 {
		t.Fatalf("Hash length = %d, want 64 hex characters", len(Hash(a)))
	}
}
