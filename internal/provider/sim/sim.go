package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/internal/provider"
)

// Name is the provider's name in the catalog's artifacts and --provider.
const Name = "sim"

// DefaultOutput is the line a simulated step prints when
// [Config.Output] is empty.
const DefaultOutput = "simulated step done"

// ErrSimulatedFailure is returned (wrapped) by Create and Destroy when the
// seeded random source decides that this call fails.
var ErrSimulatedFailure = errors.New("simulated failure")

// Config configures a [Provider]. Zero fields take the defaults given.
type Config struct {
	// Installation names this server installation; List and Destroy see
	// this installation's machines only. Required.
	Installation string
	// Cloud holds the machines; share one between providers to play a
	// server restart. Default: a Cloud of the provider's own.
	Cloud *Cloud
	// CreateLatency is how long Create takes before the machine exists
	// and its agent starts (a VM's boot, say); default 0.
	CreateLatency time.Duration
	// DestroyLatency is how long Destroy takes after the agent stopped;
	// default 0.
	DestroyLatency time.Duration
	// CreateFailureRate is the probability, from 0 to 1, that a Create
	// fails (after CreateLatency) with ErrSimulatedFailure, leaving no
	// machine; default 0.
	CreateFailureRate float64
	// DestroyFailureRate is the probability, from 0 to 1, that a Destroy
	// fails with ErrSimulatedFailure, leaving the machine (its agent
	// stopped) for a later Destroy; default 0.
	DestroyFailureRate float64
	// Seed seeds the random source of the failures: with the same seed
	// and the same order of calls, the same calls fail.
	Seed uint64
	// StepDuration is how long the default Runner takes per step after
	// printing Output; default 0 (a step completes at once).
	StepDuration time.Duration
	// Output is the line the default Runner prints per step; default
	// DefaultOutput.
	Output string
	// WorkDir is where the agents make (and remove) a directory per job;
	// default os.TempDir().
	WorkDir string
	// RunAgent runs the agent of a new machine until ctx ends, which
	// Destroy does; a machine whose agent returned stays until destroyed,
	// as a VM whose agent crashed would. Default: the real agent loop
	// (see [Provider.runAgent]). Tests set a stand-in; a function that
	// returns at once makes a machine that costs no goroutine.
	RunAgent func(ctx context.Context, p *provider.CreateParams)
	// HTTPClient is the agents' client; default one h2c client shared
	// by every agent of the provider (see the package doc).
	HTTPClient *http.Client
	// Clock times the latencies and steps; default the real clock.
	Clock clockwork.Clock
	// Logger receives the provider's log and its agents'; default
	// slog.Default().
	Logger *slog.Logger
}

func (cfg Config) withDefaults() Config {
	if cfg.Cloud == nil {
		cfg.Cloud = NewCloud()
	}
	if cfg.Output == "" {
		cfg.Output = DefaultOutput
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = os.TempDir()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = newAgentClient()
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

func (cfg Config) validate() error {
	var errs []error
	if cfg.Installation == "" {
		errs = append(errs, errors.New("installation is empty"))
	}
	if cfg.CreateLatency < 0 || cfg.DestroyLatency < 0 || cfg.StepDuration < 0 {
		errs = append(errs, errors.New("latencies and the step duration must not be negative"))
	}
	for name, r := range map[string]float64{"create": cfg.CreateFailureRate, "destroy": cfg.DestroyFailureRate} {
		if r < 0 || r > 1 {
			errs = append(errs, fmt.Errorf("%s failure rate %g is not between 0 and 1", name, r))
		}
	}
	return errors.Join(errs...)
}

// Provider makes simulated workers. It is safe for concurrent use.
type Provider struct {
	cfg Config
	// agents is the base of the agents' contexts; Close ends it and waits
	// for them through running.
	agents     context.Context
	stopAgents context.CancelFunc
	running    sync.WaitGroup

	mu  sync.Mutex // guards rnd
	rnd *rand.Rand
}

var _ provider.Provider = (*Provider)(nil)

// New returns a Provider for cfg, or an error naming what is invalid in it.
func New(cfg Config) (*Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new sim provider: %w", err)
	}
	agents, stop := context.WithCancel(context.Background())
	return &Provider{cfg: cfg, agents: agents, stopAgents: stop, rnd: rand.New(rand.NewPCG(cfg.Seed, 0x5eed))}, nil
}

// Close stops the agents this Provider started and waits for them, and
// closes the agents' idle connections. The machines stay in the Cloud,
// their agents stopped, as an in-process agent ends with its server.
func (p *Provider) Close() error {
	p.stopAgents()
	p.running.Wait()
	p.cfg.HTTPClient.CloseIdleConnections()
	return nil
}

// Name returns "sim".
func (p *Provider) Name() string { return Name }

// Supports returns nil for an image of any OS whose build has a "sim"
// artifact (its value is not used), and otherwise an error wrapping
// provider.ErrUnsupported.
func (p *Provider) Supports(_ string, artifacts map[string]string) error {
	if _, ok := artifacts[Name]; !ok {
		return fmt.Errorf("%w: the image build has no %q artifact", provider.ErrUnsupported, Name)
	}
	return nil
}

// fails draws from the seeded source whether a call with this failure
// rate fails. A rate of 0 draws nothing: with only create failures
// configured, whether the n-th Create fails depends on the seed and n
// alone.
func (p *Provider) fails(rate float64) bool {
	if rate <= 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rnd.Float64() < rate
}

// sleep waits d on the provider's clock, or until ctx ends.
func (p *Provider) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := p.cfg.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
