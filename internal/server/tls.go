package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/dynpool/dynpool/internal/tlspin"
)

// serverTLS decides how the server at listener address addr is reached:
//   - with cfg.TLSCert and cfg.TLSKey, over HTTPS with that certificate;
//   - else over plain HTTP on a loopback address, or with
//     cfg.InsecureHTTP;
//   - else over HTTPS with a self-signed certificate generated once into
//     <DataDir>/tls/cert.pem and key.pem (0600) and kept across restarts,
//     so the agents' pins stay valid.
//
// It returns the TLS configuration and the certificate's fingerprint
// (tlspin.Fingerprint), which every agent is given and pins, or nil and
// "" for plain HTTP.
func serverTLS(cfg *Config, addr net.Addr, now time.Time) (*tls.Config, string, error) {
	var cert tls.Certificate
	var err error
	switch {
	case cfg.TLSCert != "" || cfg.TLSKey != "":
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return nil, "", errors.New("give both --tls-cert and --tls-key, or neither")
		}
		if cert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, "", fmt.Errorf("load TLS certificate: %w", err)
		}
	case cfg.InsecureHTTP || isLoopback(addr):
		return nil, "", nil
	default:
		if cert, err = selfSigned(filepath.Join(cfg.DataDir, "tls"), addr, now); err != nil {
			return nil, "", err
		}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		tlspin.Fingerprint(cert.Certificate[0]), nil
}

// isLoopback reports whether addr is a loopback TCP address.
func isLoopback(addr net.Addr) bool {
	a, ok := addr.(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// selfSigned loads the certificate kept in dir, or generates it there for
// the names this host is reached by. Servers that share a data directory
// (PostgreSQL replicas) and start together must end up serving the same
// certificate: each generates into a directory of its own beside dir and
// renames it to dir, which only the first rename wins (a directory is not
// renamed over a non-empty one); the others load the winner's.
func selfSigned(dir string, addr net.Addr, now time.Time) (tls.Certificate, error) {
	if cert, err := loadSelfSigned(dir); err == nil || !errors.Is(err, os.ErrNotExist) {
		return cert, err
	}
	certPEM, keyPEM, err := tlspin.SelfSigned(hostNames(addr), now)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate a TLS certificate: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tls-*") // mode 0700
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate a TLS certificate: %w", err)
	}
	defer os.RemoveAll(tmp) // after the rename, a no-op
	for name, data := range map[string][]byte{"key.pem": keyPEM, "cert.pem": certPEM} {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o600); err != nil {
			return tls.Certificate{}, fmt.Errorf("write the generated TLS certificate: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if errors.Is(err, fs.ErrExist) { // EEXIST or ENOTEMPTY: another start won
			return loadSelfSigned(dir)
		}
		return tls.Certificate{}, fmt.Errorf("keep the generated TLS certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read the generated TLS certificate: %w", err)
	}
	return cert, nil
}

// loadSelfSigned loads dir's cert.pem and key.pem; the error wraps
// os.ErrNotExist when either is missing.
func loadSelfSigned(dir string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load the generated TLS certificate: %w", err)
	}
	return cert, nil
}

// hostNames lists what a generated certificate names: this host, the
// loopback and docker-gateway names agents use, and the listen address
// (every interface's when it is unspecified). Agents pin the fingerprint
// and do not need them; browsers and other clients may.
func hostNames(addr net.Addr) []string {
	hosts := []string{"localhost", "host.docker.internal", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil {
		hosts = append(hosts, h)
	}
	a, ok := addr.(*net.TCPAddr)
	if ok && !a.IP.IsUnspecified() {
		return append(hosts, a.IP.String())
	}
	if ifaces, err := net.InterfaceAddrs(); err == nil {
		for _, ia := range ifaces {
			if n, ok := ia.(*net.IPNet); ok {
				hosts = append(hosts, n.IP.String())
			}
		}
	}
	return hosts
}
