package fleet

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/internal/notify"
	"github.com/dynpool/dynpool/internal/store"
)

// Defaults. Idle timeout and max lifetime are the figures the hosted
// dynamic worker documentation gives: 60 minutes idle, 72 hours of life.
const (
	DefaultIdleTimeout         = 60 * time.Minute
	DefaultMaxLifetime         = 72 * time.Hour
	DefaultReaperPeriod        = 5 * time.Second
	DefaultReconcilePeriod     = 15 * time.Second
	DefaultRegistrationTimeout = 2 * time.Minute
	// DefaultCreateTimeout bounds a provider's Create, which may pull
	// images or boot a machine.
	DefaultCreateTimeout     = 10 * time.Minute
	DefaultHeartbeatInterval = 5 * time.Second
	// DefaultHeartbeatTimeout is six missed heartbeats.
	DefaultHeartbeatTimeout = 30 * time.Second
)

// Config configures a Fleet. Zero fields take the defaults above.
type Config struct {
	// Installation names this dynpool installation; it labels every
	// provider resource so List finds only ours.
	Installation string
	// ServerURL is the URL agents reach the server at.
	ServerURL string
	// ServerFingerprint is the server's TLS certificate fingerprint the
	// agents pin (internal/tlspin); "" for plain HTTP.
	ServerFingerprint string
	// IdleTimeout and MaxLifetime apply to tenants without an override.
	IdleTimeout time.Duration
	MaxLifetime time.Duration
	// ReaperPeriod is how often expired workers are looked for: an idle
	// worker is destroyed within one period of its idle timeout.
	ReaperPeriod time.Duration
	// ReconcilePeriod is how often provider resources are compared with
	// the store (orphans, lost workers, missed heartbeats).
	ReconcilePeriod time.Duration
	// RegistrationTimeout is how long a new worker's agent has to register,
	// from the end of its creation.
	RegistrationTimeout time.Duration
	// CreateTimeout bounds the provider's creation of one worker.
	CreateTimeout time.Duration
	// HeartbeatInterval is what agents are told to keep; a worker silent
	// for HeartbeatTimeout is lost.
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	// Retire says why worker w must take no new step (one of the
	// api.DestroyImage* / DestroyPoolDeleted reasons), or "" when it may.
	// Nil means workers are never retired early.
	Retire func(ctx context.Context, w *store.Worker) (string, error)
	// OnLost is called (from the reaper) for each worker found lost, after
	// it is marked so in the store, with a sentence saying why.
	OnLost func(w *store.Worker, reason string)
	// Hub wakes waiters when workers change; share one with the task
	// runner, and give it a publisher when several servers share a store.
	// Nil means a hub of the fleet's own.
	Hub *notify.Hub
	// MaxWorkers bounds the live workers of the fleet's provider, of every
	// tenant and standby, across servers sharing a store; 0 means none.
	MaxWorkers int
	// MaxCreating bounds the workers being created at once (provisioning),
	// across servers sharing a store; 0 means none.
	MaxCreating int
	// CreateRate bounds the creations this server starts per second (a
	// token bucket holding one second's worth, at least one); 0 means none.
	CreateRate float64
	// Standby returns the image builds to keep standby workers of at now,
	// with their counts (a schedule may change them over the day). Nil
	// means no standby workers. See [Fleet.Standby].
	Standby func(ctx context.Context, now time.Time) ([]StandbyTarget, error)
	// Metrics records creations, creation failures and destroys
	// ([NewMetrics]); nil records none.
	Metrics *Metrics
	Clock   clockwork.Clock
	Logger  *slog.Logger
}

func (c *Config) setDefaults() {
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.MaxLifetime, DefaultMaxLifetime)
	setDefault(&c.ReaperPeriod, DefaultReaperPeriod)
	setDefault(&c.ReconcilePeriod, DefaultReconcilePeriod)
	setDefault(&c.RegistrationTimeout, DefaultRegistrationTimeout)
	setDefault(&c.CreateTimeout, DefaultCreateTimeout)
	setDefault(&c.HeartbeatInterval, DefaultHeartbeatInterval)
	setDefault(&c.HeartbeatTimeout, DefaultHeartbeatTimeout)
	if c.Hub == nil {
		c.Hub = &notify.Hub{}
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Retire == nil {
		c.Retire = func(context.Context, *store.Worker) (string, error) { return "", nil }
	}
	if c.OnLost == nil {
		c.OnLost = func(*store.Worker, string) {}
	}
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.Installation == "" {
		errs = append(errs, errors.New("installation is required"))
	}
	if c.ServerURL == "" {
		errs = append(errs, errors.New("server URL is required"))
	}
	for name, d := range map[string]time.Duration{
		"idle timeout": c.IdleTimeout, "max lifetime": c.MaxLifetime,
		"reaper period": c.ReaperPeriod, "reconcile period": c.ReconcilePeriod,
		"registration timeout": c.RegistrationTimeout, "create timeout": c.CreateTimeout,
		"heartbeat interval": c.HeartbeatInterval, "heartbeat timeout": c.HeartbeatTimeout,
	} {
		if d < 0 {
			errs = append(errs, errors.New(name+" must not be negative"))
		}
	}
	if c.MaxWorkers < 0 || c.MaxCreating < 0 || c.CreateRate < 0 {
		errs = append(errs, errors.New("max workers, max creating and create rate must not be negative"))
	}
	if c.HeartbeatTimeout < 2*c.HeartbeatInterval {
		errs = append(errs, errors.New("heartbeat timeout must be at least twice the heartbeat interval"))
	}
	return errors.Join(errs...)
}
