package server

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Replicas sharing a data directory that start at once must all serve the
// certificate kept on disk, else agents pinned to one replica's
// fingerprint break at its next restart (found by review: 29 of 50 double
// starts disagreed when cert and key were written in place).
func TestConcurrentStartsKeepOneCertificate(t *testing.T) {
	t.Parallel()
	addr := &net.TCPAddr{IP: net.IPv4zero}
	for round := range 20 {
		dir := filepath.Join(t.TempDir(), "tls")
		const starts = 4
		certs := make([][]byte, starts)
		var wg sync.WaitGroup
		for i := range starts {
			wg.Go(func() {
				cert, err := selfSigned(dir, addr, time.Now())
				if err != nil {
					t.Errorf("round %d start %d: %v", round, i, err)
					return
				}
				certs[i] = cert.Certificate[0]
			})
		}
		wg.Wait()
		kept, err := loadSelfSigned(dir)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i, c := range certs {
			if !bytes.Equal(c, kept.Certificate[0]) {
				t.Errorf("round %d: start %d serves a certificate other than the one kept in %s", round, i, dir)
			}
		}
		for _, name := range []string{"cert.pem", "key.pem"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("round %d: %s has mode %v, want 0600", round, name, fi.Mode().Perm())
			}
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".tls-*")); len(left) != 0 {
			t.Errorf("round %d: temporary directories left behind: %q", round, left)
		}
	}
}
