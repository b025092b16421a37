package task

import (
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/notify"
	"github.com/dynpool/dynpool/internal/secret"
)

// Defaults.
const (
	// DefaultLeaseTimeout is how long a step waits for a worker before it
	// fails with "leasing timeout"; the hosted product fails steps the same
	// way after its lease timeout.
	DefaultLeaseTimeout = 10 * time.Minute
	// DefaultCancelGrace is how long a canceled step's agent has to stop
	// the script before its worker is destroyed.
	DefaultCancelGrace = 30 * time.Second
	// DefaultWorkerCheckPeriod is how often a step waiting on its job
	// checks that its worker still lives (a safety net behind the fleet's
	// lost-worker callback, e.g. across a restart).
	DefaultWorkerCheckPeriod = 15 * time.Second
	// DefaultLeasePeriod is how long a runner's claim on a task lasts
	// without renewal; it renews every third of it.
	DefaultLeasePeriod = 15 * time.Second
)

// Config configures a Runner. Zero fields take the defaults.
type Config struct {
	LeaseTimeout      time.Duration
	CancelGrace       time.Duration
	WorkerCheckPeriod time.Duration
	// Catalog returns the catalog in force; it is called for every step so
	// a reloaded catalog applies to the next step.
	Catalog func() *catalog.Catalog
	// Hub wakes waiters (jobs, steps, logs); share the fleet's. Nil means
	// a hub of the runner's own.
	Hub *notify.Hub
	// Owner names this runner when it claims tasks; several servers on
	// one store each have their own. Default: a fresh id per process.
	Owner string
	// LeasePeriod is how long a task stays claimed by a runner that stops
	// renewing it (it died): then another runner takes it over.
	LeasePeriod time.Duration
	// Metrics records how long steps wait for a worker ([NewMetrics]);
	// nil records nothing.
	Metrics *Metrics
	// Containers runs steps' execution containers; nil means this server
	// has none, and a step with a container is refused when submitted.
	Containers ContainerHost
	// Secrets seals sensitive variables and derives job credentials; nil
	// means a fresh random key (fine for one process; replicas must share
	// one).
	Secrets *secret.Key
	// Artifacts bounds artifact sizes; zero fields take the defaults.
	Artifacts ArtifactLimits
	Clock     clockwork.Clock
	Logger    *slog.Logger
}

func (c *Config) setDefaults() {
	if c.LeaseTimeout == 0 {
		c.LeaseTimeout = DefaultLeaseTimeout
	}
	if c.CancelGrace == 0 {
		c.CancelGrace = DefaultCancelGrace
	}
	if c.WorkerCheckPeriod == 0 {
		c.WorkerCheckPeriod = DefaultWorkerCheckPeriod
	}
	if c.Hub == nil {
		c.Hub = &notify.Hub{}
	}
	if c.Owner == "" {
		c.Owner = id.New("run")
	}
	if c.LeasePeriod == 0 {
		c.LeasePeriod = DefaultLeasePeriod
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Secrets == nil {
		c.Secrets, _ = secret.NewKey()
	}
	c.Artifacts.setDefaults()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}
