package secret

import (
	"errors"
	"fmt"
	"os"
)

// EnvKey is the environment variable the server reads its key from.
const EnvKey = "DYNPOOL_SECRET_KEY"

// ErrKeyRequired is returned by [Load] when no key is given and none may be
// generated (servers sharing a PostgreSQL database must share one key).
var ErrKeyRequired = errors.New(EnvKey + " is required when the server keeps its state in PostgreSQL: " +
	"every replica must hold the same key; make one with `openssl rand -base64 32`")

// Load returns the key encoded in given when it is not empty. Otherwise,
// when generate is true, the key kept in path, made and written there
// (mode 0600) on first use; when generate is false, ErrKeyRequired.
func Load(given, path string, generate bool) (*Key, error) {
	if given != "" {
		k, err := ParseKey(given)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return k, nil
	}
	if !generate {
		return nil, ErrKeyRequired
	}
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	k, enc := NewKey()
	// O_EXCL: two servers starting on one data directory keep one key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return Load("", path, true)
	}
	if err != nil {
		return nil, fmt.Errorf("write secret key: %w", err)
	}
	if _, err := f.WriteString(enc + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write secret key %s: %w", path, err)
	}
	return k, nil
}
