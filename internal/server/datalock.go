package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// errDataDirInUse is wrapped by New when another server runs on the same
// SQLite data directory.
var errDataDirInUse = errors.New("another dynpool server uses this data directory")

// lockDataDir takes an exclusive lock on <dir>/server.lock, held until the
// returned file is closed (or the process ends, however it ends): a
// SQLite data directory serves one server at a time, which lets that
// server's task runner keep one owner name across restarts and resume the
// tasks a killed predecessor left at once, instead of after their lease
// period.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "server.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s is locked); stop it first, or use --database-url to run replicas", errDataDirInUse, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
