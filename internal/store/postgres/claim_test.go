package postgres

import (
	"errors"
	"testing"
)

func TestClaimKeepsASecondServerOut(t *testing.T) {
	t.Parallel()
	first, url := openFresh(t)
	second, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open second store: %v", err)
	}
	defer second.Close()
	release, err := first.Claim(t.Context())
	if err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if _, err := second.Claim(t.Context()); !errors.Is(err, ErrInUse) {
		t.Fatalf("second claim = %v, want ErrInUse", err)
	}
	release()
	again, err := second.Claim(t.Context())
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	again()
}
