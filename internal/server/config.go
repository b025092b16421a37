package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/notify"
	"github.com/dynpool/dynpool/internal/provider/docker"
	"github.com/dynpool/dynpool/internal/provider/kubernetes"
	"github.com/dynpool/dynpool/internal/provider/sim"
	"github.com/dynpool/dynpool/internal/standby"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/task"
)

// DefaultListen is the address `dynpool server` listens on by default:
// loopback only, so a fresh install exposes nothing.
const DefaultListen = "127.0.0.1:8080"

// Config configures a Server. Zero fields take the defaults of the
// packages they are handed to.
type Config struct {
	// Listen is the TCP address to serve on ("127.0.0.1:0" picks a port).
	Listen string
	// Listener, when set, is served instead of listening on Listen (an
	// inherited socket); Run closes it when it ends.
	Listener net.Listener
	// TLSCert and TLSKey are PEM files of the certificate to serve HTTPS
	// with. Without them the server serves HTTPS with a certificate it
	// generates once into <DataDir>/tls, unless it listens on a loopback
	// address or InsecureHTTP is set (plain HTTP). Agents pin the
	// certificate's fingerprint either way (internal/tlspin).
	TLSCert, TLSKey string
	InsecureHTTP    bool
	// DataDir holds the SQLite database, the installation id, the
	// generated admin token and the process provider's worker directories.
	DataDir string
	// DatabaseURL, when set, is a postgres:// URL whose database holds the
	// state instead of SQLite. Several servers (replicas) may share it.
	DatabaseURL string
	// AdvertiseURL is the URL agents reach the servers at: a load balancer
	// in front of replicas. Empty means this server's own URL.
	AdvertiseURL string
	// Provider names the provider workers are made with: "process" (local
	// processes, the default), "docker" (containers), "kubernetes" (pods)
	// or "sim" (simulated workers whose agents run in the server's
	// process).
	Provider string
	// Docker configures the docker provider; its Installation, AgentBinary
	// (default: this executable, which must then be statically linked) and
	// Logger are filled in by the server.
	Docker docker.Config
	// Kubernetes configures the kubernetes provider; its Installation and
	// Logger are filled in by the server.
	Kubernetes kubernetes.Config
	// Sim configures the sim provider; its Installation is filled in by
	// the server, its Clock and Logger default to the server's.
	Sim sim.Config
	// Catalog is the catalog in force; nil means catalog.Builtin().
	Catalog *catalog.Catalog
	// CatalogPath is the file Catalog was read from, read again by
	// ReloadCatalog; empty for the built-in catalog.
	CatalogPath string
	// AdminToken authenticates /api/v1/admin; empty means read
	// <DataDir>/admin-token, generating it on first start.
	AdminToken string
	// AgentCommand starts a worker's agent (process provider); empty means
	// this executable with the argument "agent".
	AgentCommand []string
	// SecretKey seals sensitive variables at rest and derives job
	// credentials: the standard base64 encoding of 32 bytes
	// (DYNPOOL_SECRET_KEY). Empty means read <DataDir>/secret-key,
	// generating it on first start; a server on PostgreSQL requires it,
	// the same on every replica.
	SecretKey string
	// Artifacts bounds the artifacts steps store (per file, per task) and
	// sets how long they are kept after their task finished.
	Artifacts task.ArtifactLimits
	// Standby says how many standby workers of which images to keep
	// (--standby FILE); nil means none.
	Standby *standby.Config
	// StandbyPath is the file Standby was read from, read again by
	// ReloadStandby.
	StandbyPath string
	// Limits bounds request bodies, log uploads, slow clients and failed
	// authentications (limits.go, docs/security.md).
	Limits Limits

	IdleTimeout         time.Duration
	MaxLifetime         time.Duration
	ReaperPeriod        time.Duration
	ReconcilePeriod     time.Duration
	RegistrationTimeout time.Duration
	HeartbeatInterval   time.Duration
	HeartbeatTimeout    time.Duration
	LeaseTimeout        time.Duration
	// MaxWorkers, MaxCreating and CreateRate are the provider-wide limits
	// of fleet.Config: live workers, creations in flight, creations per
	// second (this server's). Zero means none.
	MaxWorkers  int
	MaxCreating int
	CreateRate  float64
	// TaskLeasePeriod is how long a server's claim on a task lasts without
	// renewal: how soon another replica takes over the tasks of one that
	// died (see task.DefaultLeasePeriod).
	TaskLeasePeriod time.Duration
	// LeaderPeriod is how often a replica tries to become the one that
	// runs the reaper and reconciler, and the leader checks it still is.
	LeaderPeriod time.Duration

	Clock  clockwork.Clock
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Provider == "" {
		c.Provider = "process"
	}
	if c.Catalog == nil {
		c.Catalog = catalog.Builtin()
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Limits.setDefaults()
}

func (c *Config) validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("a data directory is required (--data)"))
	}
	if c.Provider != "process" && c.Provider != "docker" && c.Provider != kubernetes.Name && c.Provider != sim.Name {
		errs = append(errs, errors.New("unknown provider "+c.Provider+" (available: process, docker, kubernetes, sim)"))
	}
	if err := c.Limits.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c *Config) fleetConfig(installation, url string, hub *notify.Hub, onLost func(w *store.Worker, reason string),
	retire func(context.Context, *store.Worker) (string, error), m *fleet.Metrics) fleet.Config {
	return fleet.Config{
		Retire: retire, Hub: hub, Metrics: m,
		Installation: installation, ServerURL: url,
		IdleTimeout: c.IdleTimeout, MaxLifetime: c.MaxLifetime,
		ReaperPeriod: c.ReaperPeriod, ReconcilePeriod: c.ReconcilePeriod,
		RegistrationTimeout: c.RegistrationTimeout,
		HeartbeatInterval:   c.HeartbeatInterval, HeartbeatTimeout: c.HeartbeatTimeout,
		MaxWorkers: c.MaxWorkers, MaxCreating: c.MaxCreating, CreateRate: c.CreateRate,
		OnLost: onLost, Clock: c.Clock, Logger: c.Logger,
	}
}

func (c *Config) taskConfig(cat func() *catalog.Catalog, hub *notify.Hub, m *task.Metrics) task.Config {
	return task.Config{
		LeaseTimeout: c.LeaseTimeout, Catalog: cat, Hub: hub, LeasePeriod: c.TaskLeasePeriod,
		Metrics: m, Artifacts: c.Artifacts, Clock: c.Clock, Logger: c.Logger,
	}
}
