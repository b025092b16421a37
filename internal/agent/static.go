package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dynpool/dynpool/api"
)

// Credential is what a machine of a static pool keeps after registering
// ([RegisterStatic]): the agent serves with it from then on ([Config]
// Credential). It is a secret: [SaveCredential] writes it readable by its
// owner only.
type Credential struct {
	// ServerURL is the server the machine registered with.
	ServerURL string `json:"server_url"`
	// ServerFingerprint pins the server's TLS certificate (see
	// internal/tlspin), when it was given at registration.
	ServerFingerprint string `json:"server_fingerprint,omitempty"`
	// WorkerID is the machine's worker.
	WorkerID string `json:"worker_id"`
	// Credential authenticates the agent as that worker.
	Credential string `json:"credential"`
	// HeartbeatInterval is what the server asked for, a Go duration.
	HeartbeatInterval string `json:"heartbeat_interval"`
}

// registered returns c as the answer of a registration.
func (c *Credential) registered() (*api.RegisterResponse, time.Duration, error) {
	interval, err := time.ParseDuration(c.HeartbeatInterval)
	if err != nil || interval <= 0 {
		return nil, 0, fmt.Errorf("stored credential: heartbeat interval %q is not a positive Go duration", c.HeartbeatInterval)
	}
	if c.WorkerID == "" || c.Credential == "" {
		return nil, 0, errors.New("stored credential: worker id or credential is empty")
	}
	return &api.RegisterResponse{WorkerID: c.WorkerID, Credential: c.Credential, HeartbeatInterval: c.HeartbeatInterval}, interval, nil
}

// RegisterStaticParams says where a machine registers.
type RegisterStaticParams struct {
	// ServerURL is the server's base URL.
	ServerURL string
	// Token is the static pool's one-time registration token.
	Token string
	// Pool is the static pool's id or name.
	Pool string
	// Name is the machine's name in the worker list.
	Name string
	// HTTPClient makes the call; default a plain client.
	HTTPClient *http.Client
	// Logger receives retries; default slog.Default().
	Logger *slog.Logger
}

// RegisterStatic registers this machine into a static pool and returns
// its credential. A refused token (unknown, used, expired, or not for
// that pool) is a *StatusError with status 401; network errors and 5xx
// are retried for a minute.
func RegisterStatic(ctx context.Context, p RegisterStaticParams) (*Credential, error) {
	if p.ServerURL == "" || p.Token == "" || p.Pool == "" || p.Name == "" {
		return nil, errors.New("register: server URL, token, pool and name are all required")
	}
	if p.HTTPClient == nil {
		p.HTTPClient = &http.Client{}
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	c := &client{base: p.ServerURL, http: p.HTTPClient, token: p.Token, giveUpAfter: time.Minute,
		firstBackoff: firstBackoff, maxBackoff: maxBackoff, logger: p.Logger}
	var resp api.RegisterResponse
	req := api.StaticRegisterRequest{Pool: p.Pool, Name: p.Name}
	if _, err := c.call(ctx, http.MethodPost, "/agent/v1/static/register", callTimeout, req, &resp); err != nil {
		return nil, fmt.Errorf("register into pool %s: %w", p.Pool, err)
	}
	cred := &Credential{ServerURL: p.ServerURL, WorkerID: resp.WorkerID, Credential: resp.Credential, HeartbeatInterval: resp.HeartbeatInterval}
	if _, _, err := cred.registered(); err != nil {
		return nil, fmt.Errorf("register into pool %s: %w", p.Pool, err)
	}
	return cred, nil
}

// DefaultCredentialPath is where `dynpool agent register` keeps the
// credential: $XDG_CONFIG_HOME/dynpool/agent.json, else
// ~/.config/dynpool/agent.json.
func DefaultCredentialPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the credential file: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "dynpool", "agent.json"), nil
}

// SaveCredential writes c to path (mode 0600, its directory 0700 when
// made), replacing it atomically.
func SaveCredential(path string, c *Credential) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".agent-*.json")
	if err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save credential: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save credential: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save credential: %w", err)
	}
	return nil
}

// LoadCredential reads the credential SaveCredential wrote at path.
func LoadCredential(path string) (*Credential, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load credential (register first with `dynpool agent register`): %w", err)
	}
	var c Credential
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("load credential %s: %w", path, err)
	}
	if _, _, err := c.registered(); err != nil {
		return nil, fmt.Errorf("load credential %s: %w", path, err)
	}
	if c.ServerURL == "" {
		return nil, fmt.Errorf("load credential %s: no server URL", path)
	}
	return &c, nil
}

// RunWithCredential serves the static worker whose credential SaveCredential
// wrote at path, running jobs under workDir (made if missing): what
// `dynpool agent run` does. It returns as [Run] does (nil when the server
// deleted the worker).
func RunWithCredential(ctx context.Context, path, workDir string, logger *slog.Logger) error {
	c, err := LoadCredential(path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return fmt.Errorf("make work dir: %w", err)
	}
	return Run(ctx, Config{ServerURL: c.ServerURL, ServerFingerprint: c.ServerFingerprint, Credential: c, WorkDir: workDir, Logger: logger})
}
