// Package eventually is the one way dynpool's tests wait for something
// another goroutine or process does: poll a condition until it holds or a
// deadline passes. The condition decides; the poll interval only bounds
// how often it is asked, so no test passes or fails on timing alone.
package eventually

import (
	"testing"
	"time"
)

// Poll is how often the condition is asked.
const Poll = 10 * time.Millisecond

// Holds polls cond until it returns true, and fails the test (naming
// what it waited for) if timeout passes first.
func Holds(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(Poll)
	}
}
