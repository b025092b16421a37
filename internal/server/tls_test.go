package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/server"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// A server beyond loopback serves HTTPS with a certificate it generates
// and keeps; its agents pin it, and a task runs end to end over TLS.
func TestTaskRunsOverTLS(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *server.Config) { c.Listen = "0.0.0.0:0" })
	if !strings.HasPrefix(s.URL(), "https://") || !strings.HasPrefix(s.Fingerprint(), "sha256:") {
		t.Fatalf("server at %s with fingerprint %q, want HTTPS and a sha256 pin", s.URL(), s.Fingerprint())
	}
	for _, f := range []string{"cert.pem", "key.pem"} {
		fi, err := os.Stat(filepath.Join(s.dir, "tls", f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v (mode %v), want a 0600 file in the data directory", f, err, fi.Mode().Perm())
		}
	}
	c := s.tenant(t, "acme") // through a pinned client
	task, lines := runTask(t, c, api.StepRequest{Script: `echo "over $DYNPOOL_SERVER"`})
	if task.State != api.StateSuccess || !logHas(lines, api.LevelInfo, "over https://") {
		t.Fatalf("task = %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}
	// A client without the pin does not trust the generated certificate.
	if _, err := client.New(s.URL(), s.AdminToken()).ListTenants(t.Context()); err == nil {
		t.Error("a client without the fingerprint trusted the self-signed certificate")
	}
	// Plain HTTP to the HTTPS port answers 400, not the API.
	resp, err := http.Get(strings.Replace(s.URL(), "https://", "http://", 1) + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("the HTTPS port answered plain HTTP")
		}
	}
}

// The certificate is generated once: a restart keeps it, so the pins of
// the agents it made stay valid.
func TestGeneratedCertificateSurvivesARestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := server.New(t.Context(), server.Config{Listen: "0.0.0.0:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	fp := first.Fingerprint()
	first.Close()
	second, err := server.New(t.Context(), server.Config{Listen: "0.0.0.0:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if second.Fingerprint() != fp {
		t.Errorf("fingerprint after a restart = %s, want %s", second.Fingerprint(), fp)
	}
}

func TestTLSChoices(t *testing.T) {
	t.Parallel()
	plain, err := server.New(t.Context(), server.Config{Listen: "0.0.0.0:0", DataDir: t.TempDir(), InsecureHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if !strings.HasPrefix(plain.URL(), "http://") || plain.Fingerprint() != "" {
		t.Errorf("--insecure-http server at %s (%q), want plain HTTP", plain.URL(), plain.Fingerprint())
	}
	certPEM, keyPEM, err := tlspin.SelfSigned([]string{"example.test"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(cert, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	given, err := server.New(t.Context(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), TLSCert: cert, TLSKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer given.Close()
	if !strings.HasPrefix(given.URL(), "https://") || given.Fingerprint() == "" {
		t.Errorf("server with --tls-cert at %s, want HTTPS even on loopback", given.URL())
	}
	_, err = server.New(t.Context(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), TLSCert: cert})
	if err == nil || !strings.Contains(err.Error(), "give both --tls-cert and --tls-key") {
		t.Errorf("a certificate without its key = %v, want it refused", err)
	}
}
