package bench

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Options shape a [Run]. The zero value runs every scenario at full size.
type Options struct {
	// Quick shrinks every scenario to CI size: seconds, not minutes. The
	// rows stay the same; their notes give the sizes used.
	Quick bool
	// Only, when not empty, keeps the rows whose key is one of these or
	// starts with one of these and a slash (e.g. "warm-start",
	// "throughput", "tick/reap", "throughput/sqlite/100"); scenarios none
	// of whose rows is kept do not run.
	Only []string
	// PostgresURL, when set, is a postgres:// URL; the throughput rows on
	// PostgreSQL run in a fresh schema there, dropped afterwards.
	PostgresURL string
	// DockerHost is the engine of the docker rows ("" means DOCKER_HOST
	// or the local socket); DockerImage the image, default
	// DefaultDockerImage; DockerAgentBinary a static linux dynpool binary
	// for the workers, default this executable when it is static.
	DockerHost        string
	DockerImage       string
	DockerAgentBinary string
	// AgentCommand starts a process worker's agent; default this
	// executable with the argument "agent". Tests give their own binary.
	AgentCommand []string
	// Concurrency is how many tasks the throughput rows keep in flight;
	// default DefaultConcurrency.
	Concurrency int
	// Logger receives progress (info) and the servers' warnings; default
	// slog.Default().
	Logger *slog.Logger
}

// Defaults of [Options].
const (
	DefaultDockerImage = "dynpool-test/worker:busybox"
	DefaultConcurrency = 128
)

// scenario measures some rows.
type scenario struct {
	// keys are the rows it gives, in table order.
	keys []string
	run  func(b *bencher, ctx context.Context) []Row
}

// bencher is one Run's state, handed to the scenarios.
type bencher struct {
	opt    Options
	size   sizes
	logger *slog.Logger
}

// Keys returns the key of every row of a full table, in order.
func Keys() []string {
	var keys []string
	for _, s := range scenarios() {
		keys = append(keys, s.keys...)
	}
	return keys
}

func scenarios() []scenario {
	return []scenario{
		{keys: []string{keyWarm}, run: (*bencher).warmStart},
		{keys: []string{keyColdProcess}, run: (*bencher).coldProcess},
		{keys: []string{keyColdDocker}, run: (*bencher).coldDocker},
		{keys: []string{keyStandby}, run: (*bencher).standby},
		// Before the sim fleets, whose memory the Go runtime keeps a while.
		{keys: []string{keyLog}, run: (*bencher).logStream},
		{keys: throughputKeys("sqlite"), run: func(b *bencher, ctx context.Context) []Row { return b.throughput(ctx, "sqlite") }},
		{keys: throughputKeys("postgres"), run: func(b *bencher, ctx context.Context) []Row { return b.throughput(ctx, "postgres") }},
		{keys: tickKeys(), run: (*bencher).ticks},
	}
}

// Row keys.
const (
	keyWarm        = "warm-start"
	keyColdProcess = "cold-start/process"
	keyColdDocker  = "cold-start/docker"
	keyStandby     = "standby-hit"
	keyMemory      = "memory/10000"
	keyLog         = "log-stream"
)

// Run runs the scenarios opt selects and returns their rows. Scenarios
// report what went wrong in their rows' notes; Run fails only when ctx
// ends (the rows so far are returned) or Only matches no row.
func Run(ctx context.Context, opt Options) (*Report, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.DockerImage == "" {
		opt.DockerImage = DefaultDockerImage
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = DefaultConcurrency
	}
	b := &bencher{opt: opt, size: fullSizes, logger: opt.Logger}
	if opt.Quick {
		b.size = quickSizes
	}
	if len(opt.Only) > 0 && !slices.ContainsFunc(Keys(), b.selected) {
		return nil, fmt.Errorf("--only %s matches no row; rows: %s", strings.Join(opt.Only, ","), strings.Join(Keys(), ", "))
	}
	r := &Report{Machine: machine(), Quick: opt.Quick, Started: time.Now()}
	for _, s := range scenarios() {
		if !slices.ContainsFunc(s.keys, b.selected) {
			continue
		}
		if err := ctx.Err(); err != nil {
			r.Took = time.Since(r.Started).Round(time.Second).String()
			return r, fmt.Errorf("bench: %w", err)
		}
		for _, row := range s.run(b, ctx) {
			if b.selected(row.Key) {
				r.Rows = append(r.Rows, row)
			}
		}
	}
	r.Took = time.Since(r.Started).Round(time.Second).String()
	return r, nil
}

// selected reports whether the row key is kept by Options.Only.
func (b *bencher) selected(key string) bool {
	if len(b.opt.Only) == 0 {
		return true
	}
	return slices.ContainsFunc(b.opt.Only, func(p string) bool {
		p = strings.TrimSuffix(p, "/")
		return key == p || strings.HasPrefix(key, p+"/")
	})
}

// machine describes this computer.
func machine() string {
	return fmt.Sprintf("%s/%s, %d CPUs (%s), %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version())
}
