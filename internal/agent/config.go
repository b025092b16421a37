package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// Defaults for the zero fields of [Config].
const (
	// DefaultPollWait is how long one job long-poll waits on the server.
	DefaultPollWait = 30 * time.Second
	// DefaultServerUnreachableTimeout is how long a call keeps retrying
	// retryable failures (network error, 5xx, 429), counted from its first
	// failure, before it gives up and the agent exits. It is long enough
	// that a server restart or upgrade does not cost the fleet its workers
	// (each agent would exit and its running script die), and short enough
	// that an agent whose server is gone for good still exits instead of
	// lingering as an orphan.
	DefaultServerUnreachableTimeout = 10 * time.Minute
)

// Environment variables [ConfigFromEnv] reads. EnvToken is also removed
// from the environment of the scripts the agent runs. They are defined
// once, in package provider, whose providers set them.
const (
	EnvServer  = provider.EnvServer
	EnvToken   = provider.EnvAgentToken
	EnvWorkDir = provider.EnvAgentWorkDir
)

// Config configures [Run].
type Config struct {
	// ServerURL is the server's base URL, e.g. "http://127.0.0.1:8080".
	ServerURL string
	// Token is the one-time registration token the worker was created with.
	Token string
	// WorkDir is the directory under which each job gets a fresh directory,
	// removed when the job ends. It must exist.
	WorkDir string
	// PollWait is how long one job long-poll waits; default DefaultPollWait.
	PollWait time.Duration
	// ServerUnreachableTimeout bounds how long one call retries retryable
	// failures, from its first failure on; default
	// DefaultServerUnreachableTimeout.
	ServerUnreachableTimeout time.Duration
	// Logger receives the agent's own log; default slog.Default().
	Logger *slog.Logger
	// HTTPClient makes the calls; default a client without a global
	// timeout (each call sets its own deadline) that, when
	// ServerFingerprint is set, trusts only that server certificate.
	HTTPClient *http.Client
	// ServerFingerprint pins the server's TLS certificate
	// (DYNPOOL_SERVER_FINGERPRINT, see internal/tlspin): the agent refuses
	// a server with any other. Empty: the usual certificate checks.
	ServerFingerprint string
	// Runner runs the jobs' scripts; default a [ProcessRunner] with the
	// registered worker's id. The sim provider sets its own, so simulated
	// workers run the real agent loop without starting processes.
	Runner Runner
	// Credential, when set, is the worker's credential from an earlier
	// registration (a static pool's machine, see [RegisterStatic]): the
	// agent skips registration and Token may be empty.
	Credential *Credential
}

// ConfigFromEnv builds a Config from DYNPOOL_SERVER, DYNPOOL_AGENT_TOKEN,
// DYNPOOL_AGENT_WORKDIR and (optional) DYNPOOL_SERVER_FINGERPRINT. The
// error names the first missing variable.
func ConfigFromEnv() (Config, error) {
	return configFromEnv(os.Getenv)
}

func configFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		ServerURL:         getenv(EnvServer),
		Token:             getenv(EnvToken),
		WorkDir:           getenv(EnvWorkDir),
		ServerFingerprint: getenv(tlspin.EnvFingerprint),
	}
	for _, v := range []struct{ name, value string }{
		{EnvServer, cfg.ServerURL},
		{EnvToken, cfg.Token},
		{EnvWorkDir, cfg.WorkDir},
	} {
		if v.value == "" {
			return Config{}, fmt.Errorf("read agent config: %s is not set", v.name)
		}
	}
	return cfg, nil
}

// withDefaults returns cfg with its zero fields set to the defaults.
func (cfg Config) withDefaults() Config {
	if cfg.PollWait == 0 {
		cfg.PollWait = DefaultPollWait
	}
	if cfg.ServerUnreachableTimeout == 0 {
		cfg.ServerUnreachableTimeout = DefaultServerUnreachableTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = tlspin.Client(cfg.ServerFingerprint)
	}
	return cfg
}

func (cfg Config) validate() error {
	var errs []error
	if cfg.ServerURL == "" {
		errs = append(errs, errors.New("server url is empty"))
	}
	if cfg.Token == "" && cfg.Credential == nil {
		errs = append(errs, errors.New("registration token is empty"))
	}
	if cfg.WorkDir == "" {
		errs = append(errs, errors.New("work dir is empty"))
	}
	if cfg.PollWait < 0 {
		errs = append(errs, fmt.Errorf("poll wait %s is negative", cfg.PollWait))
	}
	if cfg.ServerUnreachableTimeout < 0 {
		errs = append(errs, fmt.Errorf("server unreachable timeout %s is negative", cfg.ServerUnreachableTimeout))
	}
	return errors.Join(errs...)
}

// RunFromEnv runs the agent with the Config of [ConfigFromEnv]: what
// `dynpool agent` does on a worker a provider started.
func RunFromEnv(ctx context.Context) error {
	cfg, err := ConfigFromEnv()
	if err != nil {
		return err
	}
	return Run(ctx, cfg)
}
