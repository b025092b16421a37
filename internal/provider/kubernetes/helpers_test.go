package kubernetes

import (
	"crypto/rand"
	"strings"
)

// randomSuffix returns 8 random lowercase letters and digits.
func randomSuffix() string { return strings.ToLower(rand.Text()[:8]) }

// containsAll reports whether s contains each of parts.
func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
