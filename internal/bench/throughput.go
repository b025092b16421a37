package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/provider/sim"
	"github.com/dynpool/dynpool/internal/server"
)

// simStep is the step of the throughput rows; the sim runner does not run
// its script, it prints one line and completes.
var simStep = api.StepRequest{Name: "sim", Syntax: api.SyntaxSh, Script: "true"}

// setupParallelism is how many tenants are created at once.
const setupParallelism = 32

// throughput gives the throughput rows of store st ("sqlite" or
// "postgres"), and for SQLite the memory row, read with the largest fleet.
func (b *bencher) throughput(ctx context.Context, st string) []Row {
	keys := throughputKeys(st)
	var rows []Row
	for i, n := range b.size.tenants {
		key := keys[i]
		// The name says the size measured; the key keeps the full size's.
		row := Row{Key: key, Name: fmt.Sprintf("throughput (sim, %s), %s: steps/s end to end", storeName(st), plural(n, "tenant"))}
		var mem *Row
		if st == "sqlite" && i == len(b.size.tenants)-1 {
			mem = &Row{Key: keyMemory, Name: "server memory per 10,000 live workers (sim)"}
		}
		switch {
		case !b.selected(key) && (mem == nil || !b.selected(mem.Key)):
			// not asked for
		case st == "postgres" && b.opt.PostgresURL == "":
			row.Note = "skipped: no PostgreSQL (set DYNPOOL_TEST_POSTGRES_URL or pass --postgres)"
		default:
			b.logger.InfoContext(ctx, "measuring throughput", "store", st, "tenants", n)
			if err := b.throughputAt(ctx, st, n, &row, mem); err != nil {
				row.Note = "failed: " + err.Error()
				if mem != nil && mem.Value == "" {
					mem.Note = "failed: " + err.Error()
				}
			}
			if n != tenantKeys[i] {
				row.Note = joinNote(fmt.Sprintf("quick: %d tenants", n), row.Note)
			}
		}
		rows = append(rows, row)
		if mem != nil {
			rows = append(rows, *mem)
		}
	}
	return rows
}

// throughputAt measures one throughput row with n tenants on a fresh
// database, and fills mem, if given, with the memory the live workers
// take.
func (b *bencher) throughputAt(ctx context.Context, st string, n int, row, mem *Row) error {
	dbURL := ""
	secret := ""
	if st == "postgres" {
		u, drop, err := freshSchema(ctx, b.opt.PostgresURL)
		if err != nil {
			return err
		}
		defer drop()
		dbURL = u
		// Replicas on PostgreSQL must share a key, so the server will not
		// make one up; this database lives for the row only.
		key := make([]byte, 32)
		rand.Read(key)
		secret = base64.StdEncoding.EncodeToString(key)
	}
	before := readMemory()
	s, err := b.startServer(ctx, func(c *server.Config) {
		c.Provider, c.DatabaseURL, c.SecretKey = sim.Name, dbURL, secret
		// The agents retry, and warn, while the server stops before them.
		c.Sim.Logger = slog.New(errorOnly{c.Logger.Handler()}).With("component", "sim")
	})
	if err != nil {
		return err
	}
	// Sim agents end with the server's provider: nothing to drain.
	s.noDrain = true
	defer s.close(ctx, b.logger)
	s.hc = h2cClient()
	s.admin = client.New(s.URL(), s.AdminToken(), client.WithHTTPClient(s.hc))

	start := time.Now()
	clients, err := s.tenants(ctx, n)
	if err != nil {
		return err
	}
	setup := time.Since(start)
	window := b.opt.Concurrency
	first := max(n, window)
	start = time.Now()
	done, err := drive(ctx, clients, first, window, b.size.phase)
	firstRound := time.Since(start)
	if err != nil {
		return fmt.Errorf("first steps: %w", err)
	}
	if mem != nil {
		b.fillMemory(ctx, s, before, mem)
	}
	setupNote := fmt.Sprintf("setup: %d tenants in %s, their first %d steps (creating workers) in %s (%.0f steps/s)",
		n, round(setup), done, round(firstRound), float64(done)/firstRound.Seconds())
	if done < first {
		row.Note = fmt.Sprintf("did not finish: the first %d steps took longer than %s; %s", first, b.size.phase, setupNote)
		return nil
	}
	steps := max(b.size.minSteps, n)
	start = time.Now()
	done, err = drive(ctx, clients, steps, window, b.size.phase)
	took := time.Since(start)
	if err != nil {
		return err
	}
	row.Value = fmt.Sprintf("%.0f steps/s", float64(done)/took.Seconds())
	row.Note = fmt.Sprintf("%d steps, %d in flight, on warm workers", done, min(window, steps))
	if done < steps {
		row.Note = fmt.Sprintf("%d of %d steps in the %s allowed, %d in flight, on warm workers", done, steps, b.size.phase, min(window, steps))
	}
	row.Note += "; " + setupNote
	return nil
}

// tenants creates n tenants with a pool each, setupParallelism at once,
// and returns their clients.
func (s *testServer) tenants(ctx context.Context, n int) ([]*client.Client, error) {
	clients := make([]*client.Client, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, setupParallelism)
	for w := range setupParallelism {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || errs[w] != nil {
					return
				}
				clients[i], errs[w] = s.tenant(ctx, fmt.Sprintf("bench-%d", i), "ubuntu-default")
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return clients, nil
}

// drive runs steps one-step tasks, step i as tenant i mod len(clients),
// window at a time, each submitted and followed to its end as a user
// would. After limit it submits no more and waits for those in flight.
// It returns how many succeeded; a step that does not succeed stops it
// with an error.
func drive(ctx context.Context, clients []*client.Client, steps, window int, limit time.Duration) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var timeUp atomic.Bool
	stop := time.AfterFunc(limit, func() { timeUp.Store(true) })
	defer stop.Stop()
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(window, steps) {
		wg.Go(func() {
			for ctx.Err() == nil && !timeUp.Load() {
				i := int(next.Add(1)) - 1
				if i >= steps {
					return
				}
				if _, err := runStep(ctx, clients[i%len(clients)], simStep, ""); err != nil {
					cancel(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return int(done.Load()), context.Cause(ctx)
}

// h2cClient returns a client speaking HTTP/2 without TLS with prior
// knowledge, so thousands of tasks in flight share a few connections.
func h2cClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{
		Protocols:   &p,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}}
}

func storeName(st string) string {
	if st == "postgres" {
		return "PostgreSQL"
	}
	return "SQLite"
}

// joinNote joins two notes with "; ", skipping an empty one.
func joinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
