package tlspin

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestClientTrustsOnlyThePinnedCertificate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	// httptest's servers share one certificate: the other gets its own.
	certPEM, keyPEM, err := SelfSigned([]string{"127.0.0.1", "localhost"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	other.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	other.StartTLS()
	defer other.Close()
	fp := Fingerprint(srv.Certificate().Raw)
	if !strings.HasPrefix(fp, "sha256:") || len(fp) != len("sha256:")+64 {
		t.Fatalf("fingerprint %q", fp)
	}
	for _, given := range []string{fp, strings.ToUpper(strings.TrimPrefix(fp, "sha256:"))} {
		resp, err := Client(given).Get(srv.URL)
		if err != nil {
			t.Fatalf("GET with the pin %q: %v", given, err)
		}
		resp.Body.Close()
	}
	_, err = Client(fp).Get(other.URL)
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("GET of another server with the pin = %v, want ErrMismatch", err)
	}
	if _, err := Client("").Get(srv.URL); err == nil {
		t.Fatal("an unpinned client accepted a self-signed certificate")
	}
	resp, err := Client(Fingerprint(cert.Leaf.Raw)).Get(other.URL)
	if err != nil {
		t.Fatalf("GET of the generated certificate's server with its pin: %v", err)
	}
	resp.Body.Close()
}

// A pinned client must not send its credentials in clear: an http:// URL,
// or an https server redirecting to one, is refused before the request
// leaves (found by review: the pin was silently ignored over plain HTTP).
func TestPinnedClientRefusesPlainHTTP(t *testing.T) {
	t.Parallel()
	var plainHits int
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		plainHits++
		w.WriteHeader(204)
	}))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/stolen", http.StatusFound)
	}))
	defer tlsSrv.Close()
	c := Client(Fingerprint(tlsSrv.Certificate().Raw))
	for _, url := range []string{plain.URL, tlsSrv.URL} {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader("secret"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer dpr_secret")
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, ErrPlainHTTP) {
			t.Errorf("POST %s with a pin = %v, want ErrPlainHTTP", url, err)
		}
	}
	if plainHits != 0 {
		t.Errorf("the plain server was reached %d times, want 0", plainHits)
	}
}
