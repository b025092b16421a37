// Package server wires dynpool together: the store, the catalog, the
// provider, the fleet and the task runner, behind the HTTP API of the
// design (tenant and admin API under /api/v1, the agent protocol under
// /agent/v1, health and metrics).
package server

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/notify"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/docker"
	"github.com/dynpool/dynpool/internal/provider/kubernetes"
	"github.com/dynpool/dynpool/internal/provider/process"
	"github.com/dynpool/dynpool/internal/provider/sim"
	"github.com/dynpool/dynpool/internal/secret"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/store/postgres"
	"github.com/dynpool/dynpool/internal/store/sqlite"
	"github.com/dynpool/dynpool/internal/task"
	"github.com/dynpool/dynpool/internal/web"
)

// Server is one running dynpool server.
type Server struct {
	cfg   Config
	store store.Store
	// pg is the store when it is PostgreSQL, which replicas share: it
	// carries their notifications and elects the one that runs the reaper.
	pg *postgres.Store
	// hub is the fleet's and the runner's; with pg it reaches all replicas
	// through the NOTIFY channel.
	hub        *notify.Hub
	channel    string
	catalog    atomic.Pointer[catalog.Catalog]
	fleet      *fleet.Fleet
	runner     *task.Runner
	provider   provider.Provider
	metrics    *metrics
	console    *web.Console
	listener   net.Listener
	url        string
	adminToken string
	ready      atomic.Bool
	// secrets seals sensitive variables and derives job credentials.
	secrets *secret.Key
	// dataLock holds the SQLite data directory's lock (nil on PostgreSQL)
	// until Run ends.
	dataLock *os.File
	// standby holds the standby counts in force; nil without --standby.
	standby *standbyTargets
	// logRate and authBackoff hold the state of cfg.Limits (limits.go).
	logRate     *logRate
	authBackoff *authBackoff
	// tls is the HTTPS configuration (nil: plain HTTP) and fingerprint its
	// certificate's, which agents pin.
	tls         *tls.Config
	fingerprint string
}

// New opens the data directory and the store, and listens on cfg.Listen;
// Run serves. On error nothing is left open.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("server config: %w", err)
	}
	// Agents of the process provider run in directories of their own: a
	// relative data directory would name another place for them.
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	cfg.DataDir = abs
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// The lock comes first: two servers starting on one new directory must
	// not both write its admin token and installation id.
	var dataLock *os.File
	if cfg.DatabaseURL == "" {
		var err error
		if dataLock, err = lockDataDir(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	ok := false
	defer func() {
		if !ok && dataLock != nil {
			dataLock.Close()
		}
	}()
	adminToken, err := loadOrCreate(filepath.Join(cfg.DataDir, "admin-token"), cfg.AdminToken, func() string { return id.Secret("dpa") })
	if err != nil {
		return nil, err
	}
	proposed, err := loadOrCreate(filepath.Join(cfg.DataDir, "installation"), "", func() string { return id.New("inst") })
	if err != nil {
		return nil, err
	}
	// Replicas on one PostgreSQL database must share the key: it is never
	// generated for them.
	secrets, err := secret.Load(cfg.SecretKey, filepath.Join(cfg.DataDir, "secret-key"), cfg.DatabaseURL == "")
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	st, pg, err := openStore(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	// Replicas share the installation of their database: its workers are
	// the installation's, not one server's.
	installation, err := st.InstallationID(ctx, proposed)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("installation id: %w", err)
	}
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			st.Close()
			return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
		}
	}
	tlsConfig, fingerprint, err := serverTLS(&cfg, ln.Addr(), cfg.Clock.Now())
	if err != nil {
		ln.Close()
		st.Close()
		return nil, err
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	s := &Server{cfg: cfg, store: st, pg: pg, hub: &notify.Hub{}, channel: notifyChannel(installation), listener: ln,
		url: scheme + "://" + ln.Addr().String(), adminToken: adminToken, tls: tlsConfig, fingerprint: fingerprint}
	s.secrets = secrets
	s.logRate, s.authBackoff = newLogRate(cfg.Limits, cfg.Clock), newAuthBackoff(cfg.Limits, cfg.Clock)
	if pg != nil {
		s.hub.SetPublisher(s.publish)
	}
	s.catalog.Store(cfg.Catalog)
	s.dataLock = dataLock
	if err := s.wire(ctx, installation); err != nil {
		ln.Close()
		st.Close()
		return nil, err
	}
	ok = true
	return s, nil
}

// openStore opens the PostgreSQL database of cfg.DatabaseURL (returned
// twice: as the store and as pg), or else the SQLite file in cfg.DataDir.
func openStore(ctx context.Context, cfg *Config) (st store.Store, pg *postgres.Store, err error) {
	if cfg.DatabaseURL == "" {
		st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "dynpool.db"))
		if err != nil {
			return nil, nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil, nil
	}
	pg, err = postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	return pg, pg, nil
}

// newProvider makes the provider cfg.Provider names.
func (s *Server) newProvider(ctx context.Context, installation string) (provider.Provider, error) {
	if s.cfg.Provider == sim.Name {
		sc := s.cfg.Sim
		sc.Installation = installation
		if sc.Clock == nil {
			sc.Clock = s.cfg.Clock
		}
		if sc.Logger == nil {
			sc.Logger = s.cfg.Logger
		}
		p, err := sim.New(sc)
		if err != nil {
			return nil, fmt.Errorf("sim provider: %w", err)
		}
		return p, nil
	}
	if s.cfg.Provider == "docker" {
		dc := s.cfg.Docker
		dc.Installation, dc.Logger = installation, s.cfg.Logger
		if dc.AgentBinary == "" {
			exe, err := os.Executable()
			if err != nil {
				return nil, fmt.Errorf("docker provider: find this executable for the agent: %w", err)
			}
			dc.AgentBinary = exe
		}
		p, err := docker.New(ctx, dc)
		if err != nil {
			return nil, fmt.Errorf("docker provider: %w", err)
		}
		return p, nil
	}
	if s.cfg.Provider == kubernetes.Name {
		kc := s.cfg.Kubernetes
		kc.Installation, kc.Logger = installation, s.cfg.Logger
		p, err := kubernetes.New(ctx, kc)
		if err != nil {
			return nil, fmt.Errorf("kubernetes provider: %w", err)
		}
		return p, nil
	}
	p, err := process.New(process.Config{
		Installation: installation, Dir: filepath.Join(s.cfg.DataDir, "workers"),
		Command: s.cfg.AgentCommand, Logger: s.cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("process provider: %w", err)
	}
	return p, nil
}

func (s *Server) wire(ctx context.Context, installation string) error {
	if err := checkAgentURL(s.cfg.Provider, s.cfg.AdvertiseURL, s.url); err != nil {
		return err
	}
	if err := checkKubeImages(s.cfg.Provider, s.cfg.Kubernetes.Images, s.catalog.Load()); err != nil {
		return err
	}
	prov, err := s.newProvider(ctx, installation)
	if err != nil {
		return err
	}
	s.provider = prov
	s.metrics, err = newMetrics(s.store, s.cfg.Logger)
	if err != nil {
		return err
	}
	var runner *task.Runner
	onLost := func(w *store.Worker, reason string) { runner.WorkerLost(w, reason) }
	agentURL := s.cfg.AdvertiseURL
	if agentURL == "" {
		agentURL = s.url
	}
	fc := s.cfg.fleetConfig(installation, agentURL, s.hub, onLost, s.retire, s.metrics.fleet)
	fc.ServerFingerprint = s.fingerprint
	if s.cfg.Standby != nil {
		if err := checkStandby(s.cfg.Standby, s.catalog.Load()); err != nil {
			return fmt.Errorf("standby: %w", err)
		}
		s.standby = &standbyTargets{catalog: s.catalog.Load, prov: prov,
			warn: s.cfg.Logger.WarnContext, skipped: make(map[string]string)}
		s.standby.cfg.Store(s.cfg.Standby)
		fc.Standby = s.standby.at
	}
	s.fleet, err = fleet.New(fc, s.store, prov)
	if err != nil {
		return err
	}
	tc := s.cfg.taskConfig(s.catalog.Load, s.hub, s.metrics.task)
	if s.dataLock != nil {
		// The only server of its data directory: the tasks a killed
		// predecessor claimed are this one's, to resume at once.
		tc.Owner = "server-" + installation
	}
	tc.Containers = newContainerHost(prov, s.cfg.Docker, installation, s.cfg.Logger)
	tc.Secrets = s.secrets
	runner = task.New(tc, s.store, s.fleet)
	s.runner = runner
	s.console, err = s.newConsole()
	return err
}

// stoppedOr returns err, or nil when ctx ended: a server told to stop
// while it was starting stopped, it did not fail.
func stoppedOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// URL is the base URL the server answers at, e.g. "http://127.0.0.1:8080"
// or "https://0.0.0.0:8443".
func (s *Server) URL() string { return s.url }

// Fingerprint is the fingerprint of the server's TLS certificate
// ("sha256:…"), which clients pin (DYNPOOL_SERVER_FINGERPRINT), or "" when
// it serves plain HTTP.
func (s *Server) Fingerprint() string { return s.fingerprint }

// AdminToken is the bearer token of /api/v1/admin.
func (s *Server) AdminToken() string { return s.adminToken }

// Close releases what New opened, for a server that will not Run: its
// listener, store, provider connection and data directory lock.
func (s *Server) Close() error {
	errs := []error{s.listener.Close(), s.store.Close()}
	if c, ok := s.provider.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	if s.dataLock != nil {
		errs = append(errs, s.dataLock.Close())
	}
	return errors.Join(errs...)
}

// Run starts the fleet and the task runner (resuming what a previous run
// left) and serves until ctx ends, then shuts down gracefully: requests
// in flight finish, workers and leases stay for the next start.
func (s *Server) Run(ctx context.Context) error {
	if s.dataLock != nil {
		defer s.dataLock.Close()
	}
	defer s.store.Close()
	if c, ok := s.provider.(io.Closer); ok {
		defer c.Close()
	}
	stopFleet, err := s.startFleet(ctx)
	if err != nil {
		return stoppedOr(ctx, err)
	}
	defer stopFleet()
	if err := s.runner.Start(ctx); err != nil {
		return stoppedOr(ctx, err)
	}
	defer s.runner.Stop()
	// HTTP/2 beside HTTP/1.1 (without TLS: h2c, prior knowledge): agents
	// of a large fleet multiplex their long-polls on a few connections
	// (the sim provider's agents do).
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	if s.tls != nil {
		protocols.SetHTTP2(true)
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler:           s.guard(s.routes()),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return withRunContext(ctx) },
		Protocols:         &protocols,
		TLSConfig:         s.tls,

		// No ReadTimeout or WriteTimeout: they would cut long-polls, log
		// follows and execution containers; guard bounds the body instead.
		// A negative idle timeout (switched off) is 0 here: none.
		IdleTimeout: max(0, s.cfg.Limits.IdleTimeout),
	}
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			errc <- srv.ServeTLS(s.listener, "", "") // the certificate is in TLSConfig
			return
		}
		errc <- srv.Serve(s.listener)
	}()
	s.ready.Store(true)
	idle, maxLife := s.fleet.Timeouts(&store.Tenant{})
	s.cfg.Logger.InfoContext(ctx, "dynpool server ready", "url", s.url, "tls_fingerprint", s.fingerprint, "data", s.cfg.DataDir,
		"provider", s.cfg.Provider, "idle_timeout", idle.String(), "max_lifetime", maxLife.String(),
		"shared_database", s.pg != nil)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.ready.Store(false)
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down: %w", err)
	}
	s.cfg.Logger.InfoContext(ctx, "dynpool server stopped; workers and leases stay for the next start")
	return nil
}

// loadOrCreate returns given when set; else the value kept in path, made
// by create and written there with mode 0600 on first use.
func loadOrCreate(path, given string, create func() string) (string, error) {
	if given != "" {
		return given, nil
	}
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	v := create()
	if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return v, nil
}

func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
