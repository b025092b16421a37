package server_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/internal/server"
)

func TestSecondServerOnOneDataDirectoryIsRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	_, err := server.New(t.Context(), server.Config{Listen: "127.0.0.1:0", DataDir: s.dir})
	if err == nil || !strings.Contains(err.Error(), "another dynpool server uses this data directory") {
		t.Fatalf("second server on %s = %v, want it refused", s.dir, err)
	}
	if errors.Unwrap(err) == nil {
		t.Errorf("error %v wraps nothing", err)
	}
}
