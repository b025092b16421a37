package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/internal/bench"
)

// benchOptions are the flags of `dynpool bench`; tests set AgentCommand
// so process workers run the test binary as their agent.
type benchOptions struct {
	bench.Options
	logLevel   string
	cpuProfile string
}

func newBenchCmd(a *app) *cobra.Command {
	var opt benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure step start, throughput, reaper ticks, memory and log streaming on this machine",
		Long: `Measure dynpool on this machine and print one table (or JSON with -o json):
warm and cold step start against the bare cost of starting the same shell,
cold start with the docker provider against a bare container run (when an
engine answers), steps per second with the sim provider at 1, 100 and 10,000
tenants on SQLite and PostgreSQL (--postgres or DYNPOOL_TEST_POSTGRES_URL),
reaper and reconciler ticks at 1,000 and 100,000 live workers, server memory
per 10,000 live workers, and log streaming of a step printing 100 MB.

Servers run in this process on loopback with temporary data directories.
A full run takes a few minutes; --quick runs CI sizes in seconds, --only
keeps the rows whose key starts with one of its values (e.g. --only
warm-start,throughput/sqlite).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(opt.logLevel)); err != nil {
				return err
			}
			opt.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			if opt.PostgresURL == "" {
				opt.PostgresURL = os.Getenv("DYNPOOL_TEST_POSTGRES_URL")
			}
			if opt.cpuProfile != "" {
				stop, err := startCPUProfile(opt.cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			r, err := bench.Run(cmd.Context(), opt.Options)
			if r != nil {
				if a.output == outputJSON {
					if werr := r.WriteJSON(cmd.OutOrStdout()); werr != nil {
						return werr
					}
				} else if werr := r.WriteTable(cmd.OutOrStdout()); werr != nil {
					return werr
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opt.Quick, "quick", false, "CI sizes: a few samples, small fleets, seconds instead of minutes")
	f.StringSliceVar(&opt.Only, "only", nil, "keep the rows whose key starts with one of these ("+strings.Join(bench.Keys(), ", ")+")")
	f.StringVar(&opt.PostgresURL, "postgres", "", "postgres:// URL for the PostgreSQL rows (default $DYNPOOL_TEST_POSTGRES_URL; a fresh schema is made and dropped)")
	f.StringVar(&opt.DockerHost, "docker-host", "", "docker engine address (default: DOCKER_HOST, else the local socket)")
	f.StringVar(&opt.DockerImage, "docker-image", bench.DefaultDockerImage, "image of the docker rows (built by .ci/docker-images.sh)")
	f.StringVar(&opt.DockerAgentBinary, "docker-agent-binary", "", "static linux dynpool binary for docker workers (default: this executable, when static)")
	f.IntVar(&opt.Concurrency, "concurrency", bench.DefaultConcurrency, "tasks in flight in the throughput rows")
	f.StringVar(&opt.logLevel, "log-level", "info", "progress log level on stderr: debug, info, warn, error")
	f.StringVar(&opt.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	return cmd
}

// startCPUProfile profiles the process into path until the returned func
// is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
