// Package secret encrypts the sensitive values dynpool keeps at rest (the
// sensitive variables of tasks) and derives the per-job credentials that
// step scripts use, all from one 256-bit key.
//
// The key comes from DYNPOOL_SECRET_KEY, the standard base64 encoding of
// 32 bytes (make one with `openssl rand -base64 32`), or is generated once
// into <data>/secret-key with mode 0600 by the server. Servers sharing a
// PostgreSQL database (replicas) must all hold the same key, so a
// PostgreSQL server requires DYNPOOL_SECRET_KEY. Losing the key loses the
// sensitive values of tasks that have not run yet; nothing else.
//
// Values are sealed with AES-256-GCM (crypto/aes, crypto/cipher): a fresh
// 96-bit random nonce per value, and additional data that binds a
// ciphertext to its place (task, variable name), so one row's ciphertext
// pasted into another does not open.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// sealedPrefix starts every sealed value, naming the format version.
const sealedPrefix = "v1:"

// ErrBadKey is wrapped by [ParseKey] for a key that is not the standard
// base64 encoding of KeySize bytes.
var ErrBadKey = errors.New("a secret key is the standard base64 encoding of 32 bytes (make one with `openssl rand -base64 32`)")

// ErrOpen is wrapped by [Key.Open] for a value it cannot open: sealed with
// another key, bound to another place, or damaged.
var ErrOpen = errors.New("cannot decrypt the value: it was sealed with another secret key, or damaged")

// Key seals and opens values and derives job credentials. Its zero value
// is not usable; make one with [ParseKey] or [NewKey].
type Key struct {
	aead cipher.AEAD
	mac  []byte // HMAC key for derived credentials, itself derived from the key
}

// NewKey returns a fresh random key and its encoding for ParseKey.
func NewKey() (*Key, string) {
	raw := make([]byte, KeySize)
	_, _ = rand.Read(raw) // crypto/rand never fails on Linux
	enc := base64.StdEncoding.EncodeToString(raw)
	k, err := ParseKey(enc)
	if err != nil {
		panic("parse a fresh key: " + err.Error())
	}
	return k, enc
}

// ParseKey decodes a key: the standard base64 encoding (padding optional,
// surrounding space ignored) of KeySize bytes. The error wraps ErrBadKey.
func ParseKey(encoded string) (*Key, error) {
	s := strings.TrimRight(strings.TrimSpace(encoded), "=")
	raw, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || len(raw) != KeySize {
		return nil, fmt.Errorf("parse secret key: %w", ErrBadKey)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("parse secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("parse secret key: %w", err)
	}
	m := hmac.New(sha256.New, raw)
	m.Write([]byte("dynpool credential key"))
	return &Key{aead: aead, mac: m.Sum(nil)}, nil
}

// Seal encrypts plaintext bound to place (e.g. "task-1/var/PASSWORD") and
// returns printable text: "v1:" + base64(nonce | ciphertext | tag).
func (k *Key) Seal(plaintext, place string) string {
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := k.aead.Seal(nonce, nonce, []byte(plaintext), []byte(place))
	return sealedPrefix + base64.StdEncoding.EncodeToString(out)
}

// Open decrypts a value Seal made for the same place; the error wraps
// ErrOpen.
func (k *Key) Open(sealed, place string) (string, error) {
	body, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", fmt.Errorf("open sealed value: %w", ErrOpen)
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil || len(raw) < k.aead.NonceSize() {
		return "", fmt.Errorf("open sealed value: %w", ErrOpen)
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(place))
	if err != nil {
		return "", fmt.Errorf("open sealed value: %w", ErrOpen)
	}
	return string(plain), nil
}

// Credential derives a bearer credential for purpose and subject (e.g.
// "job", "<step id>/<worker id>"): prefix + "_" + base64url(HMAC-SHA256).
// The same key, purpose and subject always give the same credential, on
// every replica; nothing needs storing.
func (k *Key) Credential(prefix, purpose, subject string) string {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(subject))
	return prefix + "_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether credential is the one Credential derives for
// prefix, purpose and subject, comparing in constant time.
func (k *Key) Verify(credential, prefix, purpose, subject string) bool {
	return hmac.Equal([]byte(credential), []byte(k.Credential(prefix, purpose, subject)))
}
