package postgres

import (
	"errors"
	"testing"
	"time"
)

func TestClaimKeepsASecondServerOut(t *testing.T) {
	t.Parallel()
	url := freshSchema(t)
	first, err := Claim(t.Context(), url)
	if err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if _, err := Claim(t.Context(), url); !errors.Is(err, ErrInUse) {
		t.Fatalf("second claim = %v, want ErrInUse", err)
	}
	first.Release()
	first.Release() // twice is harmless
	again, err := Claim(t.Context(), url)
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	again.Release()
}

func TestClaimIsLostWithItsConnection(t *testing.T) {
	t.Parallel()
	url := freshSchema(t)
	c, err := Claim(t.Context(), url)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	defer c.Release()
	var pid int
	if err := c.conn.QueryRow(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatalf("backend pid: %v", err)
	}
	admin(t, serverURL(t), "SELECT pg_terminate_backend("+itoa(pid)+")")
	select {
	case <-c.Lost():
	case <-time.After(30 * time.Second): // the watch checks every 5 s
		t.Fatal("the claim was not reported lost")
	}
}
