package kubetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dynpool/dynpool/internal/tlspin"
)

// pki is what the API server needs to serve TLS and sign service account
// tokens, written as PEM files into one directory.
type pki struct {
	caPEM      []byte // the serving certificate, which clients trust
	certFile   string // serving certificate for 127.0.0.1 and localhost
	keyFile    string // its private key
	saKeyFile  string // ECDSA P-256 key that signs and verifies service account tokens
	tokenFile  string // static token file: one admin token in system:masters
	adminToken string
}

// newPKI writes a self-signed serving certificate (its own CA: clients
// trust it as is), a service account key and a token file for one admin
// identity into dir. Every key is ECDSA P-256: quick to make and accepted
// by kube-apiserver everywhere.
func newPKI(dir string) (*pki, error) {
	certPEM, keyPEM, err := tlspin.SelfSigned([]string{"127.0.0.1", "localhost"}, time.Now())
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate service account key: %w", err)
	}
	p := &pki{
		caPEM:      certPEM,
		certFile:   filepath.Join(dir, "apiserver.crt"),
		keyFile:    filepath.Join(dir, "apiserver.key"),
		saKeyFile:  filepath.Join(dir, "sa.key"),
		tokenFile:  filepath.Join(dir, "tokens.csv"),
		adminToken: rand.Text(),
	}
	saPEM, err := ecKeyPEM(saKey)
	if err != nil {
		return nil, err
	}
	files := []struct {
		path string
		data []byte
	}{
		{p.certFile, certPEM},
		{p.keyFile, keyPEM},
		{p.saKeyFile, saPEM},
		// token,user,uid,"group": system:masters may do anything.
		{p.tokenFile, []byte(p.adminToken + `,kubetest-admin,kubetest-admin,"system:masters"` + "\n")},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	return p, nil
}

func ecKeyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}
