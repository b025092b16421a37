// Package id makes the identifiers and secrets dynpool hands out: short
// prefixed ids ("w-3kq9…") and high-entropy bearer secrets, with the one
// hash used to store and look the secrets up.
package id

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

var encoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// New returns prefix + "-" + 16 random lowercase characters (80 bits),
// e.g. New("w") = "w-7hq2mzx4ckb9tnra".
func New(prefix string) string {
	return prefix + "-" + random(10)
}

// Secret returns a bearer secret: prefix + "_" + 52 random characters
// (256 bits), e.g. an API key "dpk_…". Only its [Hash] is ever stored.
func Secret(prefix string) string {
	return prefix + "_" + random(32)
}

// Hash returns the hex SHA-256 of a secret. Secrets carry 256 bits of
// entropy, so a fast hash is enough (no password stretching needed), and a
// lookup by hash compares in the database, never byte by byte in Go.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("read random: " + err.Error()) // crypto/rand never fails on Linux
	}
	return strings.ToLower(encoding.EncodeToString(b))
}
