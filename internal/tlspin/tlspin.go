// Package tlspin connects to a dynpool server whose TLS certificate is
// known by its fingerprint rather than by a certificate authority: the
// server generates a self-signed certificate once, and every agent it
// creates (and every client given the fingerprint) trusts that one
// certificate and refuses any other, whatever name it was reached by, as
// the hosted product's agents trust one server thumbprint.
package tlspin

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// EnvFingerprint carries a server's certificate fingerprint to agents,
// their scripts and the command-line client.
const EnvFingerprint = "DYNPOOL_SERVER_FINGERPRINT"

// ErrMismatch is wrapped by the handshake error of a server whose
// certificate is not the pinned one.
var ErrMismatch = errors.New("the server's certificate is not the one this agent was given")

// ErrPlainHTTP is wrapped by the error of a request a pinned client would
// send without TLS: a fingerprint promises an encrypted connection to one
// server, so an http:// URL (or a redirect to one) is refused before any
// credential leaves the machine.
var ErrPlainHTTP = errors.New("a server fingerprint was given, so only https:// URLs are used")

// Fingerprint returns "sha256:" and the hex SHA-256 of a certificate's DER
// bytes, e.g. "sha256:3f2a…".
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Config returns a TLS client configuration that accepts exactly the
// certificate whose Fingerprint is fp (case and a missing "sha256:" prefix
// aside) and nothing else; the usual chain and name checks are replaced by
// that comparison.
func Config(fp string) *tls.Config {
	want := normalize(fp)
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The pin below is the whole check: a self-signed certificate has
		// no chain, and agents reach the server by names it cannot know.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("%w: it sent none", ErrMismatch)
			}
			if got := Fingerprint(cs.PeerCertificates[0].Raw); got != want {
				return fmt.Errorf("%w: it is %s, want %s", ErrMismatch, got, want)
			}
			return nil
		},
	}
}

// Client returns an HTTP client (no global timeout) whose TLS connections
// accept only the certificate of fingerprint fp and which refuses plain
// http:// requests with ErrPlainHTTP; with fp empty, the default
// transport's checks apply.
func Client(fp string) *http.Client {
	if fp == "" {
		return &http.Client{}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = Config(fp)
	return &http.Client{Transport: httpsOnly{t}}
}

// httpsOnly is a RoundTripper that sends only https requests; redirects
// pass through it too, so none can downgrade a pinned client.
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%w: refusing %s://%s", ErrPlainHTTP, req.URL.Scheme, req.URL.Host)
	}
	return h.next.RoundTrip(req)
}

func normalize(fp string) string {
	fp = strings.ToLower(strings.TrimSpace(fp))
	if !strings.HasPrefix(fp, "sha256:") {
		fp = "sha256:" + fp
	}
	return fp
}
