package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dynpool/dynpool/internal/fleet"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/task"
)

// scrapeTimeout bounds the store query of one scrape of dynpool_workers.
const scrapeTimeout = 5 * time.Second

// metrics are the server's Prometheus registry and what records into it.
// The registry is the server's own, not prometheus.DefaultRegisterer, so
// one process may run several servers (the tests do).
type metrics struct {
	registry *prometheus.Registry
	fleet    *fleet.Metrics
	task     *task.Metrics
}

// newMetrics registers the Go runtime and process collectors, the
// workers collector over st, and the fleet's and the runner's metrics on
// a new registry.
func newMetrics(st store.Store, logger *slog.Logger) (*metrics, error) {
	reg := prometheus.NewRegistry()
	err := registerAll(reg,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newWorkersCollector(st, logger),
	)
	if err != nil {
		return nil, err
	}
	fm, err := fleet.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("register fleet metrics: %w", err)
	}
	tm, err := task.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("register task metrics: %w", err)
	}
	return &metrics{registry: reg, fleet: fm, task: tm}, nil
}

func registerAll(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

// handler serves the registry in the Prometheus exposition formats, with
// promhttp's own request metrics as promhttp.Handler has them. A failed
// collector (the store is down) costs its own metrics, not the scrape.
func (m *metrics) handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.registry,
		promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
}

// workersCollector exports dynpool_workers: the live workers in the
// store, by state, provider and image, read at scrape time.
//
// Cost: one store query per scrape, WorkerList over the live states (the
// store's (state, destroy_at) index finds them), which reads every live
// worker row of the installation, on every replica that is scraped; the
// destroyed and lost ones are not read. At a 15 s scrape interval and a
// few thousand live workers that is a few thousand rows every 15 s;
// scrape one replica, or take max() across them: all replicas report the
// same store.
type workersCollector struct {
	store  store.Store
	logger *slog.Logger
	desc   *prometheus.Desc

	mu sync.Mutex
	// seen holds every label set reported so far: one that has no
	// worker now is reported at 0 rather than vanishing. It grows with
	// states × providers × images, which the catalog bounds.
	seen map[workerLabels]bool
}

type workerLabels struct{ state, provider, image string }

func newWorkersCollector(st store.Store, logger *slog.Logger) *workersCollector {
	return &workersCollector{
		store: st, logger: logger, seen: make(map[workerLabels]bool),
		desc: prometheus.NewDesc("dynpool_workers",
			"Live workers in the store (provisioning, idle, busy, draining, destroying), by state, provider and image, read at scrape time.",
			[]string{"state", "provider", "image"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *workersCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector. A store error is logged and
// makes dynpool_workers missing from this scrape.
func (c *workersCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	ws, err := c.store.WorkerList(ctx, &store.WorkerListParams{States: fleet.LiveStates})
	if err != nil {
		c.logger.ErrorContext(ctx, "collect worker metrics", "error", err)
		ch <- prometheus.NewInvalidMetric(c.desc, fmt.Errorf("list live workers: %w", err))
		return
	}
	counts := make(map[workerLabels]int)
	for _, w := range ws {
		counts[workerLabels{w.State, w.Provider, w.Image}]++
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for l := range counts {
		c.seen[l] = true
	}
	for l := range c.seen {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[l]), l.state, l.provider, l.image)
	}
}
