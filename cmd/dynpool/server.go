package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/provider/docker"
	"github.com/dynpool/dynpool/internal/provider/sim"
	"github.com/dynpool/dynpool/internal/secret"
	"github.com/dynpool/dynpool/internal/server"
	"github.com/dynpool/dynpool/internal/standby"
	"github.com/dynpool/dynpool/internal/task"
	"github.com/dynpool/dynpool/internal/tlspin"
)

func newServerCmd() *cobra.Command {
	var (
		cfg         server.Config
		catalogFile string
		standbyFile string
		logLevel    string
		kube        kubeFlags
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the dynpool server (SQLite store, process provider by default)",
		Long: `Run the dynpool server: the HTTP API, the fleet of dynamic workers and the task runner.

The admin token comes from DYNPOOL_ADMIN_TOKEN; if unset, one is generated on
first start and written to <data>/admin-token. The secret key that encrypts
sensitive variables comes from DYNPOOL_SECRET_KEY (base64 of 32 bytes:
openssl rand -base64 32); if unset, one is generated into <data>/secret-key.
With --database-url it is required, the same on every replica. SIGHUP reloads the --catalog
and --standby files (a broken one is refused and the old one stays). SIGINT or SIGTERM
stops the server gracefully: workers and leases stay for the next start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(logLevel)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			if catalogFile != "" {
				cfg.Catalog, err = catalog.Load(catalogFile)
				if err != nil {
					return err
				}
				cfg.CatalogPath = catalogFile
			}
			if standbyFile != "" {
				if cfg.Standby, err = standby.Load(standbyFile); err != nil {
					return err
				}
				cfg.StandbyPath = standbyFile
			}
			if err := kube.apply(&cfg.Kubernetes); err != nil {
				return err
			}
			cfg.AdminToken = os.Getenv("DYNPOOL_ADMIN_TOKEN")
			cfg.SecretKey = os.Getenv(secret.EnvKey)
			srv, err := server.New(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if cfg.AdminToken == "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "dynpool server at %s; admin token in %s\n", srv.URL(), filepath.Join(cfg.DataDir, "admin-token"))
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "dynpool server at %s; admin token from DYNPOOL_ADMIN_TOKEN\n", srv.URL())
			}
			if fp := srv.Fingerprint(); fp != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "TLS certificate %s: give clients %s=%s (or --server-fingerprint)\n", fp, tlspin.EnvFingerprint, fp)
			}
			go reloadOnHangup(cmd.Context(), srv)
			return srv.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", server.DefaultListen, "TCP address to serve the API on")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate to serve HTTPS with (with --tls-key); without it a server not on loopback generates one into <data>/tls")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	f.BoolVar(&cfg.InsecureHTTP, "insecure-http", false, "serve plain HTTP on a non-loopback address (behind a TLS proxy, say)")
	f.StringVar(&cfg.DataDir, "data", "dynpool-data", "data directory (SQLite database, admin token, worker directories)")
	f.StringVar(&cfg.DatabaseURL, "database-url", "", "postgres:// URL of the database to keep state in instead of SQLite; several servers (replicas) may share it")
	f.StringVar(&cfg.AdvertiseURL, "advertise-url", "", "URL agents reach the servers at, e.g. a load balancer in front of replicas (default: this server's own; required with --provider kubernetes when listening on a loopback or unspecified address)")
	f.StringVar(&cfg.Provider, "provider", "process", "provider that makes workers: process (local processes), docker (containers), kubernetes (pods) or sim (simulated, agents in process)")
	f.StringVar(&cfg.Docker.Host, "docker-host", "", "docker engine address (default: DOCKER_HOST, else the local socket)")
	f.StringVar(&cfg.Docker.AgentBinary, "docker-agent-binary", "", "static linux dynpool binary mounted into worker containers (default: this executable; build it with CGO_ENABLED=0)")
	f.Float64Var(&cfg.Docker.CPUs, "docker-cpus", 0, "CPUs per worker container (0: no limit)")
	f.Int64Var(&cfg.Docker.MemoryBytes, "docker-memory", 0, "memory per worker container in bytes (0: no limit)")
	f.StringVar(&cfg.Docker.NetworkPrefix, "docker-network-prefix", docker.DefaultNetworkPrefix, "first part of the names of the docker provider's networks and containers")
	kube.register(f, &cfg.Kubernetes)
	f.DurationVar(&cfg.Sim.CreateLatency, "sim-create-latency", 0, "sim provider: how long creating a worker takes")
	f.DurationVar(&cfg.Sim.DestroyLatency, "sim-destroy-latency", 0, "sim provider: how long destroying a worker takes")
	f.Float64Var(&cfg.Sim.CreateFailureRate, "sim-create-failure-rate", 0, "sim provider: share of creations that fail, 0 to 1")
	f.Float64Var(&cfg.Sim.DestroyFailureRate, "sim-destroy-failure-rate", 0, "sim provider: share of destructions that fail, 0 to 1")
	f.Uint64Var(&cfg.Sim.Seed, "sim-seed", 1, "sim provider: seed of the failures, so a run repeats")
	f.DurationVar(&cfg.Sim.StepDuration, "sim-step-duration", 0, "sim provider: how long a simulated step runs")
	f.StringVar(&cfg.Sim.Output, "sim-output", "", "sim provider: the line a simulated step prints (default \""+sim.DefaultOutput+"\")")
	f.StringVar(&catalogFile, "catalog", "", "catalog YAML file replacing the built-in catalog")
	f.Int64Var(&cfg.Artifacts.MaxFileBytes, "artifact-max-file-size", task.DefaultArtifactMaxFileBytes, "largest artifact a step may store, in bytes")
	f.Int64Var(&cfg.Artifacts.MaxTaskBytes, "artifact-max-task-size", task.DefaultArtifactMaxTaskBytes, "most bytes of artifacts one task may store")
	f.DurationVar(&cfg.Artifacts.Retention, "artifact-retention", task.DefaultArtifactRetention, "how long artifacts are kept after their task finished")
	f.StringVar(&standbyFile, "standby", "", "YAML file saying how many standby workers of which images to keep, on what schedule (docs/standby.md)")
	f.DurationVar(&cfg.IdleTimeout, "idle-timeout", fleet.DefaultIdleTimeout, "destroy a worker idle this long (tenants may override)")
	f.DurationVar(&cfg.MaxLifetime, "max-lifetime", fleet.DefaultMaxLifetime, "destroy a worker this old once its step ends (tenants may override)")
	f.DurationVar(&cfg.ReaperPeriod, "reaper-period", fleet.DefaultReaperPeriod, "how often expired workers are looked for")
	f.DurationVar(&cfg.LeaseTimeout, "lease-timeout", 0, "how long a step waits for a worker before it fails (default 10m)")
	f.IntVar(&cfg.MaxWorkers, "max-workers", 0, "most live workers of the provider, of every tenant and standby (0: no limit)")
	f.IntVar(&cfg.MaxCreating, "max-creating", 0, "most workers being created at once (0: no limit)")
	f.Float64Var(&cfg.CreateRate, "create-rate", 0, "most worker creations per second this server starts (0: no limit)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	limitFlags(cmd, &cfg.Limits)
	return cmd
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// reloadOnHangup reloads the server's catalog and standby files on every
// SIGHUP until ctx ends. The reloads log their outcomes.
func reloadOnHangup(ctx context.Context, srv *server.Server) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			// Each logs its outcome; a file not given is no error here.
			_, _ = srv.ReloadCatalog(ctx)
			_ = srv.ReloadStandby(ctx)
		case <-ctx.Done():
			return
		}
	}
}
