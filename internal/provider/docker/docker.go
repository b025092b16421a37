package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/docker/docker/client"

	"github.com/dynpool/dynpool/internal/provider"
)

// Name is the provider's name in the catalog's artifacts and --provider.
const Name = "docker"

// DefaultNetworkPrefix is the default of Config.NetworkPrefix.
const DefaultNetworkPrefix = "dynpool"

// ErrInvalidName is returned (wrapped) for an installation, network
// prefix, worker id or tenant id that cannot be part of a Docker container
// or network name: empty, or not matching [a-zA-Z0-9][a-zA-Z0-9_.-]*.
var ErrInvalidName = errors.New("invalid name")

// validName is what Docker accepts in container names (and so in network
// names).
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Config configures a [Provider].
type Config struct {
	// Installation names this server installation; every container and
	// network carries it as the provider.LabelInstallation label, and List
	// and Destroy touch this installation's containers only. Required.
	Installation string
	// Host is the engine's address, e.g. "unix:///var/run/docker.sock";
	// "" means the DOCKER_HOST, DOCKER_API_VERSION, DOCKER_CERT_PATH and
	// DOCKER_TLS_VERIFY environment variables (client.FromEnv), and the
	// local socket when they are unset. The API version is negotiated, so
	// engines from 20.10 (API 1.41) on work.
	Host string
	// AgentBinary is the absolute path, on the engine's host, of a
	// statically linked linux dynpool binary. It is bind-mounted read-only
	// into every worker at /dynpool/dynpool and run as `dynpool agent`, so
	// worker images need no dynpool of their own. Required by New, unused
	// by NewForSteps.
	AgentBinary string
	// NetworkPrefix starts the name of each tenant's network
	// <NetworkPrefix>-<Installation>-<tenant>; default DefaultNetworkPrefix.
	// Containers are named <NetworkPrefix>-<Installation>-<worker>.
	NetworkPrefix string
	// CPUs limits each worker's CPU time, in CPUs (1.5 = one and a half);
	// 0 means no limit.
	CPUs float64
	// MemoryBytes limits each worker's memory, in bytes; 0 means no limit.
	MemoryBytes int64
	// Logger receives the provider's log; default slog.Default().
	Logger *slog.Logger
}

// withDefaults returns cfg with its zero fields set to the defaults.
func (cfg Config) withDefaults() Config {
	if cfg.NetworkPrefix == "" {
		cfg.NetworkPrefix = DefaultNetworkPrefix
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// validate checks cfg; workers says whether it must make workers (and so
// needs an agent binary) or runs execution containers only.
func (cfg Config) validate(workers bool) error {
	var errs []error
	if cfg.Installation == "" {
		errs = append(errs, errors.New("installation is empty"))
	} else if !validName.MatchString(cfg.Installation) {
		errs = append(errs, fmt.Errorf("%w: installation %q", ErrInvalidName, cfg.Installation))
	}
	if !validName.MatchString(cfg.NetworkPrefix) {
		errs = append(errs, fmt.Errorf("%w: network prefix %q", ErrInvalidName, cfg.NetworkPrefix))
	}
	if cfg.CPUs < 0 {
		errs = append(errs, fmt.Errorf("cpus %g is negative", cfg.CPUs))
	}
	if cfg.MemoryBytes < 0 {
		errs = append(errs, fmt.Errorf("memory bytes %d is negative", cfg.MemoryBytes))
	}
	switch {
	case cfg.AgentBinary == "" && !workers:
	case cfg.AgentBinary == "":
		errs = append(errs, errors.New("agent binary is empty"))
	case !filepath.IsAbs(cfg.AgentBinary):
		errs = append(errs, fmt.Errorf("agent binary %q is not an absolute path", cfg.AgentBinary))
	default:
		fi, err := os.Stat(cfg.AgentBinary)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("agent binary: %w", err))
		case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
			errs = append(errs, fmt.Errorf("agent binary %s is not an executable file", cfg.AgentBinary))
		}
	}
	return errors.Join(errs...)
}

// Provider makes workers as Docker containers. It is safe for concurrent
// use; Close releases its connection to the engine.
type Provider struct {
	cfg    Config
	client *client.Client
	locks  keyedMutex // "network/<name>", "container/<id>" and "image/<ref>"
	// makesWorkers is false for a provider from NewForSteps.
	makesWorkers bool
	// cacheFailed holds when each worker-tools image's last pull failed.
	cacheMu     sync.Mutex
	cacheFailed map[string]time.Time
}

var _ provider.Provider = (*Provider)(nil)

// New returns a Provider for cfg once the engine answers a ping. It fails
// when cfg is invalid (Installation or AgentBinary missing, a negative
// limit, a name Docker refuses) or the engine cannot be reached, with an
// error that names the engine's address.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	return connect(ctx, cfg, true)
}

// NewForSteps returns a Provider that runs execution containers
// ([Provider.RunStep]) for workers made by another provider (local
// processes) and makes no workers: its Create fails. cfg.AgentBinary is
// not needed. Errors are New's.
func NewForSteps(ctx context.Context, cfg Config) (*Provider, error) {
	return connect(ctx, cfg, false)
}

func connect(ctx context.Context, cfg Config, workers bool) (*Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(workers); err != nil {
		return nil, fmt.Errorf("new docker provider: %w", err)
	}
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if cfg.Host != "" {
		opts = append(opts, client.WithHost(cfg.Host))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("new docker provider: %w", err)
	}
	if _, err := c.Ping(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("new docker provider: the docker engine at %s does not answer: %w", c.DaemonHost(), err)
	}
	return &Provider{cfg: cfg, client: c, makesWorkers: workers, cacheFailed: make(map[string]time.Time)}, nil
}

// Close closes the provider's connection to the engine. Workers live on.
func (p *Provider) Close() error { return p.client.Close() }

// Name returns "docker".
func (p *Provider) Name() string { return Name }

// Supports returns nil for os "linux" with a non-empty "docker" artifact
// (an image reference), and otherwise an error wrapping
// provider.ErrUnsupported that says why.
func (p *Provider) Supports(os string, artifacts map[string]string) error {
	if os != "linux" {
		return fmt.Errorf("%w: the docker provider makes linux workers only; image os is %q", provider.ErrUnsupported, os)
	}
	ref, ok := artifacts[Name]
	if !ok {
		return fmt.Errorf("%w: the image build has no %q artifact", provider.ErrUnsupported, Name)
	}
	if ref == "" {
		return fmt.Errorf("%w: the image build's %q artifact is empty; it must be an image reference", provider.ErrUnsupported, Name)
	}
	return nil
}

// standbyNetwork ends the name of the network standby workers (of no
// tenant yet) wait on; tenant ids are never this word.
const standbyNetwork = "standby"

// networkName returns the name of tenant's network, or of the standby
// network for tenant "".
func (p *Provider) networkName(tenant string) string {
	if tenant == "" {
		tenant = standbyNetwork
	}
	return p.cfg.NetworkPrefix + "-" + p.cfg.Installation + "-" + tenant
}

// containerName returns the name of worker's container.
func (p *Provider) containerName(worker string) string {
	return p.cfg.NetworkPrefix + "-" + p.cfg.Installation + "-" + worker
}

// keyedMutex is a set of mutexes by key, each dropped when nobody holds or
// waits for it.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// lock locks key and returns its unlock.
func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyedEntry)
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
